/* `fusion netbench`: two processes over loopback, with or without link emulation; measures RTT and throughput and
 * prints them beside the profile's figures and the model estimate (bytes / bandwidth + rounds * RTT). */
#include <fusion/fusion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/commands.h"
#include "net/wire.h"

enum { CMD_QUIT = 0, CMD_PING = 1, CMD_BULK = 2 };
#define FRAME_BYTES ((size_t)1 << 20)

typedef struct bench_opts {
  const char *profile_name, *listen_addr, *connect_addr;
  fsn_link_profile link;
  int json, check;
  double seconds;
  long pings;
  uint64_t bytes;
} bench_opts;

/* The second party: answers pings and acknowledges bulk transfers until told to quit. */
static int echo_party(const char *addr, const fsn_channel_opts *co) {
  fsn_channel *ch;
  fsn_channel_params p = {.ell = 64, .scale = 0};
  fsn_status st = fsn_connect(&ch, addr, co);
  if (st == FSN_OK && (st = fsn_channel_handshake(ch, FSN_ROLE_CLIENT, &p)) != FSN_OK) fsn_channel_destroy(ch);
  if (st != FSN_OK) {
    fprintf(stderr, "netbench (second party): %s\n", fsn_last_error());
    return 1;
  }
  uint8_t *buf = malloc(FRAME_BYTES);
  uint64_t cmd[3];
  while (st == FSN_OK && buf && (st = fsn_channel_recv(ch, cmd, sizeof cmd)) == FSN_OK && cmd[0] != CMD_QUIT) {
    if (cmd[0] == CMD_PING) {
      for (uint64_t i = 0; st == FSN_OK && i < cmd[1]; i++) {
        if ((st = fsn_channel_recv(ch, buf, 1)) == FSN_OK) st = fsn_channel_send(ch, buf, 1);
      }
    } else {
      for (uint64_t left = cmd[1]; st == FSN_OK && left > 0;) {
        size_t k = left < cmd[2] ? (size_t)left : (size_t)cmd[2];
        st = fsn_channel_recv(ch, buf, k);
        left -= k;
      }
      if (st == FSN_OK) st = fsn_channel_send(ch, buf, 1);
    }
  }
  if (st != FSN_OK) fprintf(stderr, "netbench (second party): %s\n", fsn_last_error());
  free(buf);
  fsn_channel_destroy(ch);
  return st == FSN_OK ? 0 : 1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct results {
  double rtt_median_s, rtt_mean_s, rtt_min_s, ping_total_s;
  double bulk_s, throughput_bps;
  fsn_counters counters;
} results;

static fsn_status measure(fsn_channel *ch, const bench_opts *o, results *r) {
  uint8_t b = 1;
  uint64_t cmd[3] = {CMD_PING, (uint64_t)o->pings + 1, 0};
  fsn_status st = fsn_channel_send(ch, cmd, sizeof cmd);
  double *rtt = calloc((size_t)o->pings, sizeof *rtt);
  if (!rtt) return fsn_fail(FSN_E_NOMEM, "netbench: out of memory");
  /* One warm-up exchange, then the timed ones. */
  if (st == FSN_OK && (st = fsn_channel_send(ch, &b, 1)) == FSN_OK) st = fsn_channel_recv(ch, &b, 1);
  fsn_channel_reset_counters(ch);
  uint64_t t0 = fsn_net_now_ns();
  for (long i = 0; st == FSN_OK && i < o->pings; i++) {
    uint64_t t = fsn_net_now_ns();
    if ((st = fsn_channel_send(ch, &b, 1)) == FSN_OK) st = fsn_channel_recv(ch, &b, 1);
    rtt[i] = (double)(fsn_net_now_ns() - t) / 1e9;
  }
  r->ping_total_s = (double)(fsn_net_now_ns() - t0) / 1e9;
  if (st == FSN_OK) {
    r->rtt_mean_s = r->ping_total_s / (double)o->pings;
    qsort(rtt, (size_t)o->pings, sizeof *rtt, cmp_double);
    r->rtt_min_s = rtt[0];
    r->rtt_median_s = o->pings % 2 ? rtt[o->pings / 2] : (rtt[o->pings / 2 - 1] + rtt[o->pings / 2]) / 2;
  }
  free(rtt);
  if (st != FSN_OK) return st;

  uint8_t *buf = calloc(1, FRAME_BYTES);
  if (!buf) return fsn_fail(FSN_E_NOMEM, "netbench: out of memory");
  uint64_t bulk[3] = {CMD_BULK, o->bytes, FRAME_BYTES};
  st = fsn_channel_send(ch, bulk, sizeof bulk);
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  t0 = fsn_net_now_ns();
  for (uint64_t left = o->bytes; st == FSN_OK && left > 0;) {
    size_t k = left < FRAME_BYTES ? (size_t)left : FRAME_BYTES;
    st = fsn_channel_send(ch, buf, k);
    left -= k;
  }
  if (st == FSN_OK) st = fsn_channel_recv(ch, &b, 1);
  r->bulk_s = (double)(fsn_net_now_ns() - t0) / 1e9;
  free(buf);
  /* The last byte arrives one one-way delay after it left and the acknowledgement takes another: one RTT. */
  double transfer_s = r->bulk_s - r->rtt_median_s;
  r->throughput_bps = transfer_s > 0 ? (double)o->bytes * 8 / transfer_s : 0;
  fsn_channel_counters(ch, &r->counters);
  uint64_t quit[3] = {CMD_QUIT, 0, 0};
  if (st == FSN_OK) st = fsn_channel_send(ch, quit, sizeof quit);
  if (st == FSN_OK) st = fsn_channel_flush(ch);
  return st;
}

static double pct(double measured, double target) { return target > 0 ? 100 * (measured - target) / target : 0; }

static void report(const bench_opts *o, const results *r) {
  const fsn_link_profile *p = &o->link;
  uint64_t frames = (o->bytes + FRAME_BYTES - 1) / FRAME_BYTES;
  double model_bulk = fsn_link_model_seconds(p, 0, o->bytes + frames * FSN_FRAME_HEADER_BYTES, 1);
  double model_ping =
      fsn_link_model_seconds(p, 0, (uint64_t)o->pings * 2 * (1 + FSN_FRAME_HEADER_BYTES), (uint64_t)o->pings);
  double mbps = r->throughput_bps / 1e6, rtt_ms = r->rtt_median_s * 1e3;
  int emulated = p->bandwidth_bps > 0 || p->rtt_s > 0;
  int is_lan = p->bandwidth_bps == 3e9 && p->rtt_s == 0.3e-3;
  int rtt_ok = !emulated || (is_lan ? fabs(rtt_ms - p->rtt_s * 1e3) <= 0.1 : fabs(pct(rtt_ms, p->rtt_s * 1e3)) <= 5);
  int bw_ok = !emulated || p->bandwidth_bps == 0 || is_lan || fabs(pct(r->throughput_bps, p->bandwidth_bps)) <= 5;
  char desc[64];
  fsn_link_format(desc, sizeof desc, p);
  if (o->json) {
    char counters[512];
    fsn_counters_json(counters, sizeof counters, &r->counters);
    printf("{\"profile\":\"%s\",\"profile_bandwidth_bps\":%.0f,\"profile_rtt_ms\":%.3f,"
           "\"rtt_ms\":{\"median\":%.4f,\"mean\":%.4f,\"min\":%.4f},\"pings\":%ld,\"model_ping_s\":%.6f,"
           "\"ping_s\":%.6f,\"bulk_bytes\":%llu,\"bulk_s\":%.6f,\"model_bulk_s\":%.6f,\"throughput_mbps\":%.3f,"
           "\"rtt_within_target\":%s,\"throughput_within_target\":%s,\"counters\":%s}\n",
           o->profile_name, p->bandwidth_bps, p->rtt_s * 1e3, rtt_ms, r->rtt_mean_s * 1e3, r->rtt_min_s * 1e3, o->pings,
           model_ping, r->ping_total_s, (unsigned long long)o->bytes, r->bulk_s, model_bulk, mbps,
           rtt_ok ? "true" : "false", bw_ok ? "true" : "false", counters);
    return;
  }
  printf("fusion netbench: profile %s (%s), two processes over %s\n", o->profile_name, desc,
         o->listen_addr ? o->listen_addr : "loopback");
  printf("  %-22s %12s %12s %9s\n", "", "measured", "profile", "deviation");
  if (emulated)
    printf("  %-22s %12.3f %12.3f %+8.2f%%\n", "RTT (ms, median)", rtt_ms, p->rtt_s * 1e3, pct(rtt_ms, p->rtt_s * 1e3));
  else
    printf("  %-22s %12.3f %12s\n", "RTT (ms, median)", rtt_ms, "-");
  if (p->bandwidth_bps > 0)
    printf("  %-22s %12.1f %12.1f %+8.2f%%\n", "throughput (Mbit/s)", mbps, p->bandwidth_bps / 1e6,
           pct(r->throughput_bps, p->bandwidth_bps));
  else
    printf("  %-22s %12.1f %12s\n", "throughput (Mbit/s)", mbps, "-");
  printf("  %-22s %12s %12s\n", "", "emulated", "model");
  printf("  %-22s %12.4f %12.4f   (%ld ping-pongs of 1-byte frames)\n", "ping phase (s)", r->ping_total_s, model_ping,
         o->pings);
  printf("  %-22s %12.4f %12.4f   (%.1f MB in 1 MiB frames, then a 1-byte ack)\n", "bulk phase (s)", r->bulk_s,
         model_bulk, (double)o->bytes / 1e6);
  printf("  model = compute + bytes * 8 / bandwidth + rounds * RTT; throughput = bytes * 8 / (bulk time - RTT)\n");
  if (emulated)
    printf("  target (%s): %s\n", is_lan ? "lan: RTT within 0.1 ms" : "RTT and throughput within 5 % of the profile",
           rtt_ok && bw_ok ? "met" : "MISSED");
}

static int usage(void) {
  fprintf(stderr,
          "usage: fusion netbench [--net lan|wan|wan-slow|off|bw=...,rtt=...] [--json] [--check]\n"
          "                       [--seconds S] [--pings N] [--bytes N] [--listen HOST:PORT | --connect HOST:PORT]\n"
          "  by default a second process is forked and joined over loopback; on two hosts (or namespaces)\n"
          "  run --listen on the measuring side and --connect on the other, with the same --net\n"
          "  --seconds  length of the bulk transfer at the profile bandwidth (default 1.5)\n"
          "  --check    exit with status 1 if the emulation misses its target\n");
  return 2;
}

int fsn_cmd_netbench(int argc, char **argv) {
  bench_opts o = {.profile_name = "off", .seconds = 1.5};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--json"))
      o.json = 1;
    else if (!strcmp(a, "--check"))
      o.check = 1;
    else if (!strcmp(a, "--net") && v)
      o.profile_name = argv[++i];
    else if (!strcmp(a, "--seconds") && v)
      o.seconds = atof(argv[++i]);
    else if (!strcmp(a, "--pings") && v)
      o.pings = atol(argv[++i]);
    else if (!strcmp(a, "--bytes") && v)
      o.bytes = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(a, "--listen") && v)
      o.listen_addr = argv[++i];
    else if (!strcmp(a, "--connect") && v)
      o.connect_addr = argv[++i];
    else
      return usage();
  }
  if (fsn_link_parse(o.profile_name, &o.link) != FSN_OK) {
    fprintf(stderr, "fusion netbench: %s\n", fsn_last_error());
    return 2;
  }
  if (!(o.seconds > 0) || o.pings < 0) return usage();
  if (o.pings == 0) o.pings = o.link.rtt_s > 0 ? (long)fmax(5, fmin(50, 1.0 / o.link.rtt_s)) : 200;
  if (o.bytes == 0)
    o.bytes = o.link.bandwidth_bps > 0 ? (uint64_t)(o.link.bandwidth_bps * o.seconds / 8) : (uint64_t)1 << 30;

  fsn_channel_opts co = {.link = o.link};
  if (o.connect_addr) return echo_party(o.connect_addr, &co);
  fsn_listener *l;
  if (fsn_listen(&l, o.listen_addr ? o.listen_addr : "127.0.0.1:0") != FSN_OK) {
    fprintf(stderr, "fusion netbench: %s\n", fsn_last_error());
    return 1;
  }
  char addr[40];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", fsn_listener_port(l));
  fflush(stdout);
  pid_t pid = -1; /* with --listen there is no child: the peer runs --connect elsewhere */
  if (!o.listen_addr) {
    pid = fork();
    if (pid < 0) {
      perror("fusion netbench: fork");
      return 1;
    }
    if (pid == 0) {
      fsn_listener_destroy(l);
      _exit(echo_party(addr, &co));
    }
  }
  fsn_channel *ch = NULL;
  fsn_channel_params p = {.ell = 64, .scale = 0};
  results r = {0};
  fsn_status st = fsn_accept(l, &ch, &co);
  if (st == FSN_OK) st = fsn_channel_handshake(ch, FSN_ROLE_SERVER, &p);
  if (st == FSN_OK) st = measure(ch, &o, &r);
  if (st != FSN_OK) fprintf(stderr, "fusion netbench: %s\n", fsn_last_error());
  fsn_channel_destroy(ch);
  fsn_listener_destroy(l);
  int child = 0;
  if (pid > 0) waitpid(pid, &child, 0);
  if (st != FSN_OK) return 1;
  if (pid > 0 && (!WIFEXITED(child) || WEXITSTATUS(child) != 0)) {
    fprintf(stderr, "fusion netbench: the second party failed\n");
    return 1;
  }
  report(&o, &r);
  if (o.check) {
    int is_lan = o.link.bandwidth_bps == 3e9 && o.link.rtt_s == 0.3e-3;
    double rtt_ms = r.rtt_median_s * 1e3;
    int ok = (o.link.rtt_s == 0 || (is_lan ? fabs(rtt_ms - 0.3) <= 0.1 : fabs(pct(rtt_ms, o.link.rtt_s * 1e3)) <= 5)) &&
             (o.link.bandwidth_bps == 0 || is_lan || fabs(pct(r.throughput_bps, o.link.bandwidth_bps)) <= 5);
    return ok ? 0 : 1;
  }
  return 0;
}
