/* `fusion server`: serve secure inference with a private model, one client after another. */
#include <stdio.h>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/server_opts.h"

int fsn_cmd_server(int argc, char **argv) {
  static const struct option longopts[] = {FSN_SERVER_LONGOPTS, {0, 0, 0, 0}};
  fsn_server_opts o;
  fsn_server_opts_init(&o);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (!fsn_server_opt(&o, c, optarg)) {
      fprintf(stderr, "usage: fusion server\n" FSN_SERVER_USAGE);
      return 2;
    }
  }
  fsn_serve_config cfg;
  fsn_model *m = NULL;
  fsn_sampleset set = {0};
  if (optind != argc || fsn_server_setup(&o, &cfg, &m, &set) != FSN_OK) {
    fprintf(stderr, "fusion server: %s\n", optind != argc ? "unexpected argument" : fsn_last_error());
    fsn_model_destroy(m);
    fsn_sampleset_free(&set);
    return optind != argc ? 2 : 1;
  }
  int rc = fsn_app_serve(&cfg);
  fsn_model_destroy(m);
  fsn_sampleset_free(&set);
  return rc;
}
