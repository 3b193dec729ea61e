/* Two-process benchmark harness: the server listens on an ephemeral loopback port, forks the client, and both
 * sides run the target's party function on their channels. */
#include "apps/bench_2p.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double fsn_bench_2p_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

fsn_status fsn_bench_2p_sync(fsn_channel *ch, fsn_role role) {
  uint8_t b = 0x5a;
  fsn_status st;
  if (role == FSN_ROLE_SERVER) {
    if ((st = fsn_channel_send(ch, &b, 1)) != FSN_OK) return st;
    return fsn_channel_recv(ch, &b, 1);
  }
  if ((st = fsn_channel_recv(ch, &b, 1)) != FSN_OK) return st;
  if ((st = fsn_channel_send(ch, &b, 1)) != FSN_OK) return st;
  return fsn_channel_flush(ch);
}

double fsn_bench_2p_bytes(fsn_channel **ch, size_t nthreads) {
  double total = 0;
  for (size_t t = 0; t < nthreads; t++) {
    fsn_counters c;
    fsn_channel_counters(ch[t], &c);
    total += (double)(c.bytes_sent + c.bytes_recv);
  }
  return total;
}

static const fsn_channel_params bench_params = {.ell = 64, .scale = 12, .session_id = 0xbe7c4};

static int party(fsn_role role, fsn_listener *l, const char *addr, size_t nthreads, fsn_bench_party_fn fn, void *arg) {
  fsn_channel **ch = calloc(nthreads, sizeof *ch);
  int rc = 1;
  if (!ch) return 1;
  for (size_t t = 0; t < nthreads; t++) {
    fsn_status st = role == FSN_ROLE_SERVER ? fsn_accept(l, &ch[t], NULL) : fsn_connect(&ch[t], addr, NULL);
    if (st == FSN_OK) st = fsn_channel_handshake(ch[t], role, &bench_params);
    if (st != FSN_OK) {
      fprintf(stderr, "fusion bench (%s): channel %zu: %s: %s\n", role == FSN_ROLE_SERVER ? "server" : "client", t,
              fsn_strerror(st), fsn_last_error());
      goto out;
    }
  }
  rc = fn(role, ch, nthreads, arg);
out:
  for (size_t t = 0; t < nthreads; t++) fsn_channel_destroy(ch[t]);
  free(ch);
  return rc;
}

int fsn_bench_2p_run(size_t nthreads, fsn_bench_party_fn fn, void *arg) {
  fsn_listener *l;
  fsn_status st = fsn_listen(&l, "127.0.0.1:0");
  if (st != FSN_OK) {
    fprintf(stderr, "fusion bench: listen: %s\n", fsn_last_error());
    return 1;
  }
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)fsn_listener_port(l));
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fusion bench: fork");
    fsn_listener_destroy(l);
    return 1;
  }
  if (pid == 0) {
    fsn_listener_destroy(l);
    _exit(party(FSN_ROLE_CLIENT, NULL, addr, nthreads, fn, arg));
  }
  int rc = party(FSN_ROLE_SERVER, l, addr, nthreads, fn, arg);
  fsn_listener_destroy(l);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "fusion bench: the client process failed (status %d)\n", status);
    if (rc == 0) rc = 1;
  }
  return rc;
}
