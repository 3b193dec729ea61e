#include "fsn_test_net.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct server_job {
  fsn_listener *listener;
  const fsn_test_net_opts *opts;
  fsn_test_parties_fn fn;
  void *arg;
  fsn_channel **chs;
  fsn_status setup, flushed;
  char why[512];
} server_job;

static void flush_all(fsn_channel **chs, size_t n, fsn_status *st, char *why, size_t cap) {
  for (size_t i = 0; i < n && *st == FSN_OK; i++) {
    *st = fsn_channel_flush(chs[i]);
    if (*st != FSN_OK) snprintf(why, cap, "flush after the party returned: %s", fsn_last_error());
  }
}

static void *server_main(void *p) {
  server_job *j = p;
  j->setup =
      fsn_channels_accept(j->listener, j->chs, j->opts->channels, FSN_ROLE_SERVER, &j->opts->params, &j->opts->chan);
  if (j->setup != FSN_OK) {
    snprintf(j->why, sizeof j->why, "server setup: %s", fsn_last_error());
    return NULL;
  }
  j->fn(j->chs, j->opts->channels, j->arg);
  flush_all(j->chs, j->opts->channels, &j->flushed, j->why, sizeof j->why);
  return NULL;
}

void fsn_test_two_party_ex(const fsn_test_net_opts *opts_in, fsn_test_parties_fn server, void *server_arg,
                           fsn_test_parties_fn client, void *client_arg) {
  fsn_test_net_opts o = opts_in ? *opts_in : (fsn_test_net_opts){0};
  if (o.channels == 0) o.channels = 1;
  if (o.params.ell == 0) o.params.ell = 37, o.params.scale = o.params.scale ? o.params.scale : 12;
  if (!o.listen_address) o.listen_address = "127.0.0.1:0";
  fsn_channel *schs[64] = {0}, *cchs[64] = {0};
  ck_assert_msg(o.channels <= 64, "fsn_test_two_party_ex: at most 64 channels, asked for %zu", o.channels);

  fsn_listener *l;
  fsn_status st = fsn_listen(&l, o.listen_address);
  ck_assert_msg(st == FSN_OK, "listen on %s: %s", o.listen_address, fsn_last_error());
  char addr[80];
  const char *host = strchr(o.listen_address, '[') ? "[::1]" : "127.0.0.1";
  snprintf(addr, sizeof addr, "%s:%u", host, fsn_listener_port(l));

  server_job job = {.listener = l, .opts = &o, .fn = server, .arg = server_arg, .chs = schs};
  pthread_t t;
  ck_assert_msg(pthread_create(&t, NULL, server_main, &job) == 0, "pthread_create failed");
  st = fsn_channels_connect(cchs, o.channels, addr, FSN_ROLE_CLIENT, &o.params, &o.chan);
  char why[512] = "";
  if (st != FSN_OK) snprintf(why, sizeof why, "client setup (%s): %s", addr, fsn_last_error());
  fsn_status flushed = FSN_OK;
  if (st == FSN_OK) {
    client(cchs, o.channels, client_arg);
    flush_all(cchs, o.channels, &flushed, why, sizeof why);
  }
  pthread_join(t, NULL);
  fsn_listener_destroy(l);
  fsn_channels_close(schs, o.channels);
  fsn_channels_close(cchs, o.channels);
  ck_assert_msg(job.setup == FSN_OK && job.flushed == FSN_OK, "%s", job.why);
  ck_assert_msg(st == FSN_OK && flushed == FSN_OK, "%s", why);
}

typedef struct single {
  fsn_test_party_fn fn;
  void *arg;
} single;

static void run_single(fsn_channel **chs, size_t n, void *p) {
  (void)n;
  const single *s = p;
  s->fn(chs[0], s->arg);
}

void fsn_test_two_party(fsn_test_party_fn server, void *server_arg, fsn_test_party_fn client, void *client_arg) {
  single s = {server, server_arg}, c = {client, client_arg};
  fsn_test_two_party_ex(NULL, run_single, &s, run_single, &c);
}

void fsn_test_channel_pair(fsn_channel **a, fsn_channel **b, const fsn_channel_opts *opts) {
  fsn_listener *l;
  ck_assert_msg(fsn_listen(&l, "127.0.0.1:0") == FSN_OK, "listen: %s", fsn_last_error());
  char addr[40];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", fsn_listener_port(l));
  /* connect completes from the listen backlog, so one thread can do both ends */
  ck_assert_msg(fsn_connect(a, addr, opts) == FSN_OK, "connect: %s", fsn_last_error());
  ck_assert_msg(fsn_accept(l, b, opts) == FSN_OK, "accept: %s", fsn_last_error());
  fsn_listener_destroy(l);
}
