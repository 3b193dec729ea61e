/* Link profiles (parse, format, model estimate) and the precise clock the emulation waits on. */
#include "net/wire.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <time.h>

uint64_t fsn_net_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The kernel's default 50 us timer slack makes sub-millisecond sleeps overshoot; lower it once per thread, sleep to
 * just short of the deadline, then spin the last stretch. */
void fsn_net_sleep_until_ns(uint64_t deadline_ns) {
  static _Thread_local int slack_set;
  enum { SPIN_NS = 60000 };
  if (!slack_set) {
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    slack_set = 1;
  }
  for (;;) {
    uint64_t now = fsn_net_now_ns();
    if (now >= deadline_ns) return;
    if (deadline_ns - now > SPIN_NS) {
      uint64_t wake = deadline_ns - SPIN_NS;
      struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u), .tv_nsec = (long)(wake % 1000000000u)};
      (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: the loop re-checks */
    }
  }
}

static const struct {
  const char *name;
  fsn_link_profile p;
} named[] = {
    {"lan", {3e9, 0.3e-3}}, {"wan", {400e6, 40e-3}}, {"wan-slow", {100e6, 80e-3}}, {"off", {0, 0}}, {"none", {0, 0}},
};

/* A number followed by a unit from `units` (case-insensitive), e.g. "400mbit" -> 4e8. */
static fsn_status parse_quantity(const char *s, size_t len, const char *const *units, const double *scales,
                                 size_t nunits, const char *what, double *out) {
  char buf[64];
  if (len == 0 || len >= sizeof buf)
    return fsn_fail(FSN_E_INVALID, "link profile: bad %s value '%.*s'", what, (int)len, s);
  memcpy(buf, s, len);
  buf[len] = 0;
  char *end;
  errno = 0;
  double x = strtod(buf, &end);
  if (end == buf || errno || !isfinite(x) || x < 0)
    return fsn_fail(FSN_E_INVALID, "link profile: %s '%s' is not a non-negative number with a unit", what, buf);
  while (*end == ' ') end++;
  for (size_t i = 0; i < nunits; i++)
    if (!strcasecmp(end, units[i])) {
      *out = x * scales[i];
      return FSN_OK;
    }
  return fsn_fail(FSN_E_INVALID, "link profile: %s '%s' has an unknown unit '%s'", what, buf, end);
}

fsn_status fsn_link_parse(const char *spec, fsn_link_profile *out) {
  static const char *const bw_units[] = {"bit",    "kbit",   "mbit", "gbit", "bit/s", "kbit/s",
                                         "mbit/s", "gbit/s", "bps",  "kbps", "mbps",  "gbps"};
  static const double bw_scales[] = {1, 1e3, 1e6, 1e9, 1, 1e3, 1e6, 1e9, 1, 1e3, 1e6, 1e9};
  static const char *const t_units[] = {"s", "ms", "us"};
  static const double t_scales[] = {1, 1e-3, 1e-6};
  if (!spec || !out) return fsn_fail(FSN_E_INVALID, "link profile: NULL argument");
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (!strcasecmp(spec, named[i].name)) {
      *out = named[i].p;
      return FSN_OK;
    }
  fsn_link_profile p = {0, 0};
  int seen_bw = 0, seen_rtt = 0;
  for (const char *s = spec; *s;) {
    const char *comma = strchr(s, ','), *end = comma ? comma : s + strlen(s), *eq = memchr(s, '=', (size_t)(end - s));
    if (!eq)
      return fsn_fail(FSN_E_INVALID, "link profile '%s': expected lan, wan, wan-slow, off or bw=...,rtt=...", spec);
    size_t klen = (size_t)(eq - s);
    fsn_status st;
    if (klen == 2 && !strncasecmp(s, "bw", 2) && !seen_bw++) {
      st = parse_quantity(eq + 1, (size_t)(end - eq - 1), bw_units, bw_scales, 12, "bw", &p.bandwidth_bps);
    } else if (klen == 3 && !strncasecmp(s, "rtt", 3) && !seen_rtt++) {
      st = parse_quantity(eq + 1, (size_t)(end - eq - 1), t_units, t_scales, 3, "rtt", &p.rtt_s);
    } else {
      return fsn_fail(FSN_E_INVALID, "link profile '%s': unknown or repeated key '%.*s' (bw, rtt)", spec, (int)klen, s);
    }
    if (st != FSN_OK) return st;
    s = comma ? comma + 1 : end;
  }
  if (!seen_bw && !seen_rtt) return fsn_fail(FSN_E_INVALID, "link profile: empty");
  if (seen_bw && p.bandwidth_bps < 1e3)
    return fsn_fail(FSN_E_INVALID, "link profile '%s': bandwidth %.0f bit/s is below 1 kbit/s", spec, p.bandwidth_bps);
  if (p.rtt_s > 60) return fsn_fail(FSN_E_INVALID, "link profile '%s': RTT %.1f s is above 60 s", spec, p.rtt_s);
  *out = p;
  return FSN_OK;
}

size_t fsn_link_format(char *buf, size_t cap, const fsn_link_profile *p) {
  if (p->bandwidth_bps <= 0 && p->rtt_s <= 0) return (size_t)snprintf(buf, cap, "off");
  char bw[48] = "unlimited";
  if (p->bandwidth_bps >= 1e9)
    snprintf(bw, sizeof bw, "%g Gbit/s", p->bandwidth_bps / 1e9);
  else if (p->bandwidth_bps >= 1e6)
    snprintf(bw, sizeof bw, "%g Mbit/s", p->bandwidth_bps / 1e6);
  else if (p->bandwidth_bps > 0)
    snprintf(bw, sizeof bw, "%g kbit/s", p->bandwidth_bps / 1e3);
  return (size_t)snprintf(buf, cap, "%s, %g ms RTT", bw, p->rtt_s * 1e3);
}

double fsn_link_model_seconds(const fsn_link_profile *p, double compute_s, uint64_t bytes, uint64_t rounds) {
  double t = compute_s;
  if (p->bandwidth_bps > 0) t += (double)bytes * 8 / p->bandwidth_bps;
  if (p->rtt_s > 0) t += (double)rounds * p->rtt_s;
  return t;
}
