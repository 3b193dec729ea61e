/* `fusion bench TARGET`: two-party protocol benchmarks, one target per protocol family. */
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} targets[] = {
    {"ot", fsn_bench_ot, "base OT, IKNP correlated/random/chosen/arithmetic OT, 1-out-of-N OT"},
    {"relu", fsn_bench_relu, "secure ReLU (millionaires DReLU + MUX) on shares"},
    {"trunc", fsn_bench_trunc, "secure truncation by s bits (exact, approx, non-negative)"},
    {"linear", fsn_bench_linear, "secure conv2d / fully connected layer (vector-COT) with server-known weights"},
    {"model", fsn_bench_model, "one secure inference of a network, layer by layer (probes for big layers)"},
};

static int bench_usage(FILE *out) {
  fprintf(out, "usage: fusion bench TARGET [ARGS]   (fusion bench TARGET --help for its options)\n\ntargets:\n");
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    fprintf(out, "  %-10s %s\n", targets[i].name, targets[i].help);
  return out == stderr ? 2 : 0;
}

int fsn_cmd_bench(int argc, char **argv) {
  if (argc < 2) return bench_usage(stderr);
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) return bench_usage(stdout);
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    if (!strcmp(argv[1], targets[i].name)) return targets[i].run(argc - 1, argv + 1);
  fprintf(stderr, "fusion bench: unknown target '%s'\n", argv[1]);
  return bench_usage(stderr);
}
