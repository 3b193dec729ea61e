/* The `fusion` command: one entry point, one table of subcommands. */
#include <fusion/fusion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apps/commands.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} commands[] = {
    {"info", fsn_cmd_info, "print CPU features, the dispatch level, version and build options"},
    {"bench", fsn_cmd_bench, "two-party protocol benchmarks over loopback (fusion bench ot --json)"},
    {"params", fsn_cmd_params, "mix-and-check parameters (R, B) for n queries at escape <= 2^-kappa"},
    {"netbench", fsn_cmd_netbench, "measure RTT and throughput over loopback, optionally with --net PROFILE"},
    {"plain", fsn_cmd_plain, "run a model in the clear (float and fixed point): accuracy, model hash, headroom"},
    {"server", fsn_cmd_server, "serve secure inference with a private model (mix-and-check ready)"},
    {"client", fsn_cmd_client, "secure inference of test images, with Fusion's mix-and-check by default"},
};

static int usage(FILE *out) {
  fprintf(out, "usage: fusion COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
  fprintf(out, "\nenvironment: FSN_ISA=ref|avx2|avx512 forces a kernel level\n");
  return out == stderr ? 2 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr);
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) return usage(stdout);
  fsn_status st = fsn_init();
  if (st != FSN_OK) {
    fprintf(stderr, "fusion: %s\n", fsn_last_error());
    return 2;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name)) continue;
    /* `fusion COMMAND --help`: the command's usage (which it prints on stderr for bad arguments) on stdout, exit 0.
     * bench dispatches its own targets' --help. */
    if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) && commands[i].run != fsn_cmd_bench) {
      fflush(stderr);
      dup2(STDOUT_FILENO, STDERR_FILENO);
      opterr = 0; /* no "unrecognized option" line before the usage */
      commands[i].run(2, (char *[]){argv[1], (char *)"--usage-only", NULL});
      return 0;
    }
    return commands[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr, "fusion: unknown command '%s'\n", argv[1]);
  return usage(stderr);
}
