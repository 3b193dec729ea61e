/* Two-process benchmark harness for `fusion bench` targets: fork a client, connect nthreads loopback channels,
 * run one party function in each process. Shared by every protocol target (ot, relu, trunc, linear). */
#ifndef FSN_APPS_BENCH_2P_H
#define FSN_APPS_BENCH_2P_H

#include <fusion/channel.h>
#include <stddef.h>

/* Runs in both processes with nthreads handshaken channels; returns an exit code. The server's return value is
 * what fsn_bench_2p_run returns (the client's failure is reported too). */
typedef int (*fsn_bench_party_fn)(fsn_role role, fsn_channel **ch, size_t nthreads, void *arg);

int fsn_bench_2p_run(size_t nthreads, fsn_bench_party_fn fn, void *arg);

/* A barrier on ch: both parties leave it within about one round trip of each other. */
FSN_NODISCARD fsn_status fsn_bench_2p_sync(fsn_channel *ch, fsn_role role);

/* Monotonic wall clock in seconds. */
double fsn_bench_2p_now(void);

/* Bytes both ways over the nthreads channels, as counted by this party. */
double fsn_bench_2p_bytes(fsn_channel **ch, size_t nthreads);

#endif
