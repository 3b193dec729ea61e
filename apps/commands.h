/* Subcommands of the `fusion` tool: each takes argv with argv[0] = the subcommand, returns the exit code. */
#ifndef FSN_APPS_COMMANDS_H
#define FSN_APPS_COMMANDS_H

int fsn_cmd_info(int argc, char **argv);
int fsn_cmd_params(int argc, char **argv);
int fsn_cmd_bench(int argc, char **argv);

/* Targets of `fusion bench`, listed in apps/cmd_bench.c. */
int fsn_bench_ot(int argc, char **argv);
int fsn_bench_relu(int argc, char **argv);
int fsn_bench_trunc(int argc, char **argv);
int fsn_bench_model(int argc, char **argv);
int fsn_bench_linear(int argc, char **argv);
int fsn_cmd_netbench(int argc, char **argv);
int fsn_cmd_plain(int argc, char **argv);

int fsn_cmd_server(int argc, char **argv);
int fsn_cmd_client(int argc, char **argv);

#endif
