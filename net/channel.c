/* Two-party channels over stream sockets: framing, buffered writes, timeouts, counters, handshake, link emulation. */
#include "net/wire.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
  WBUF_BYTES = 256 << 10,
  RBUF_BYTES = 256 << 10,
  CHUNK_ELEMS = 16384, /* ring/bit vectors move through the buffers in chunks of this many elements (a multiple of 8,
                          so every chunk but the last is whole bytes and at most 128 KiB) */
  PHASE_NAME = 48,
  MAX_PHASES = 4096,
  DEFAULT_TIMEOUT_MS = 30000,
};
#define DEFAULT_MAX_FRAME ((size_t)1 << 30)
/* The kernel paces 25 % faster than the profile so that the frame stamps, which follow the profile exactly,
 * set the emulated timing and the kernel only supplies back-pressure (at 1.05 its pacing of 64 KiB loopback
 * segments lost 8 % at 3 Gbit/s). */
#define PACING_HEADROOM 1.25

typedef struct phase {
  char name[PHASE_NAME];
  fsn_counters c;
} phase;

enum { DIR_NONE, DIR_SEND, DIR_RECV };

struct fsn_channel {
  int fd;
  int timeout_ms;
  size_t max_frame;
  fsn_link_profile link;
  int emulate;
  uint8_t *wbuf, *rbuf;
  size_t wlen, rpos, rlen;
  int last_dir, handshaken;
  fsn_status broken; /* first I/O or protocol failure: the stream is out of step, later calls fail fast */
  char broken_why[160];
  fsn_counters total;
  phase *phases;
  size_t nphases, phase_cap, cur_phase; /* cur_phase == SIZE_MAX: none */
  uint64_t session_id, peer_max_frame;
  int64_t peer_clock_offset_ns; /* peer CLOCK_MONOTONIC minus ours, estimated by the handshake */
  uint64_t link_free_ns;        /* emulated link: when the last queued byte has left the sender */
  struct shared_link *shared;   /* the channels of a session share one emulated link (NULL: this channel's own) */
  uint64_t deadline_ns;         /* no wait reaches past this instant (0: none); see fsn_channels_set_deadline */
  int write_failed;             /* a write failed part-way: nothing more may be sent */
};

/* One emulated link per direction per session: the channels' frames queue behind each other as on a real link. */
typedef struct shared_link {
  _Atomic uint64_t free_ns;
  _Atomic int refs;
} shared_link;

static void shared_link_release(shared_link *s) {
  if (s && atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

struct fsn_listener {
  int fd;
  uint16_t port;
};

/* ---- addresses ---- */

static fsn_status split_host_port(const char *host_port, char *host, size_t hcap, char *port, size_t pcap) {
  if (!host_port) return fsn_fail(FSN_E_INVALID, "address: NULL");
  const char *h = host_port, *colon;
  size_t hlen;
  if (h[0] == '[') {
    const char *close = strchr(h, ']');
    if (!close || close[1] != ':') return fsn_fail(FSN_E_INVALID, "address '%s': expected [v6addr]:port", host_port);
    h++;
    hlen = (size_t)(close - h);
    colon = close + 1;
  } else {
    colon = strrchr(h, ':');
    if (!colon || memchr(h, ':', (size_t)(colon - h)))
      return fsn_fail(FSN_E_INVALID, "address '%s': expected host:port or [v6addr]:port", host_port);
    hlen = (size_t)(colon - h);
  }
  size_t plen = strlen(colon + 1);
  if (hlen >= hcap || plen == 0 || plen >= pcap || strspn(colon + 1, "0123456789") != plen)
    return fsn_fail(FSN_E_INVALID, "address '%s': bad host or port", host_port);
  memcpy(host, h, hlen);
  host[hlen] = 0;
  memcpy(port, colon + 1, plen + 1);
  if (strtoul(port, NULL, 10) > 65535) return fsn_fail(FSN_E_INVALID, "address '%s': port above 65535", host_port);
  return FSN_OK;
}

static fsn_status resolve(struct addrinfo **res, const char *host_port, int passive) {
  char host[256], port[8];
  fsn_status st = split_host_port(host_port, host, sizeof host, port, sizeof port);
  if (st != FSN_OK) return st;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  if (passive) hints.ai_flags |= AI_PASSIVE;
  int rc = getaddrinfo(host[0] && strcmp(host, "*") ? host : NULL, port, &hints, res);
  if (rc != 0) return fsn_fail(FSN_E_IO, "address '%s': %s", host_port, gai_strerror(rc));
  return FSN_OK;
}

static uint64_t elapsed_ms(uint64_t since_ns) { return (fsn_net_now_ns() - since_ns) / 1000000u; }

/* Wait for `events` on fd for at most timeout_ms in total across EINTR. */
static fsn_status wait_fd(int fd, short events, int timeout_ms, const char *what) {
  uint64_t start = fsn_net_now_ns();
  for (;;) {
    uint64_t spent = elapsed_ms(start);
    int left = spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
    struct pollfd p = {.fd = fd, .events = events};
    int rc = poll(&p, 1, left);
    if (rc > 0) return FSN_OK;
    if (rc == 0) return fsn_fail(FSN_E_TIMEOUT, "%s: nothing happened within %d ms", what, timeout_ms);
    if (errno != EINTR) return fsn_fail(FSN_E_IO, "%s: poll: %s", what, strerror(errno));
  }
}

/* Wait on a channel's socket: the per-call timeout, cut short by the channel's deadline if it has one. */
static fsn_status wait_channel(fsn_channel *ch, short events, const char *what) {
  if (ch->deadline_ns) {
    uint64_t now = fsn_net_now_ns();
    if (now >= ch->deadline_ns) return fsn_fail(FSN_E_TIMEOUT, "%s: the session's deadline has passed", what);
    uint64_t left_ms = (ch->deadline_ns - now + 999999) / 1000000;
    if (left_ms < (uint64_t)ch->timeout_ms) {
      fsn_status st = wait_fd(ch->fd, events, (int)left_ms, what);
      if (st == FSN_E_TIMEOUT) return fsn_fail(FSN_E_TIMEOUT, "%s: the session's deadline has passed", what);
      return st;
    }
  }
  return wait_fd(ch->fd, events, ch->timeout_ms, what);
}

static void set_nonblocking(int fd) { (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

fsn_status fsn_listen(fsn_listener **out, const char *host_port) {
  *out = NULL;
  struct addrinfo *res;
  fsn_status st = resolve(&res, host_port, 1);
  if (st != FSN_OK) return st;
  int fd = -1, err = 0;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 64) == 0) break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return fsn_fail(FSN_E_IO, "listen on '%s': %s", host_port, strerror(err));
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    close(fd);
    return fsn_fail(FSN_E_IO, "listen on '%s': getsockname: %s", host_port, strerror(errno));
  }
  fsn_listener *l = malloc(sizeof *l);
  if (!l) {
    close(fd);
    return fsn_fail(FSN_E_NOMEM, "listen: out of memory");
  }
  l->fd = fd;
  l->port =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  *out = l;
  return FSN_OK;
}

uint16_t fsn_listener_port(const fsn_listener *l) { return l->port; }
int fsn_listener_fd(const fsn_listener *l) { return l->fd; }

void fsn_listener_destroy(fsn_listener *l) {
  if (!l) return;
  close(l->fd);
  free(l);
}

void fsn_channel_opts_resolve(fsn_channel_opts *o) {
  if (o->timeout_ms <= 0) o->timeout_ms = DEFAULT_TIMEOUT_MS;
  if (o->max_frame == 0) o->max_frame = DEFAULT_MAX_FRAME;
}

static void apply_opts(fsn_channel *ch, const fsn_channel_opts *opts) {
  fsn_channel_opts o = opts ? *opts : (fsn_channel_opts){0};
  ch->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : DEFAULT_TIMEOUT_MS;
  ch->max_frame = o.max_frame ? o.max_frame : DEFAULT_MAX_FRAME;
  ch->link = o.link;
  ch->emulate = o.link.bandwidth_bps > 0 || o.link.rtt_s > 0;
}

fsn_status fsn_channel_from_fd(fsn_channel **out, int fd, const fsn_channel_opts *opts) {
  *out = NULL;
  if (opts && (opts->timeout_ms < 0 || !(opts->link.bandwidth_bps >= 0) || !(opts->link.rtt_s >= 0))) {
    close(fd);
    return fsn_fail(FSN_E_INVALID, "channel options: negative timeout, bandwidth or RTT");
  }
  fsn_channel *ch = calloc(1, sizeof *ch);
  uint8_t *w = malloc(WBUF_BYTES), *r = malloc(RBUF_BYTES);
  if (!ch || !w || !r) {
    free(ch), free(w), free(r);
    close(fd);
    return fsn_fail(FSN_E_NOMEM, "channel: out of memory for %d KiB of buffers", (WBUF_BYTES + RBUF_BYTES) >> 10);
  }
  ch->fd = fd;
  ch->wbuf = w;
  ch->rbuf = r;
  ch->cur_phase = SIZE_MAX;
  apply_opts(ch, opts);
  set_nonblocking(fd);
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on AF_UNIX */
  if (ch->link.bandwidth_bps > 0) {
    /* The kernel paces the real bytes at the profile rate; the frame stamps carry the same schedule exactly. */
    double bytes_per_s = ch->link.bandwidth_bps / 8 * PACING_HEADROOM;
    unsigned int rate = bytes_per_s >= (double)UINT_MAX ? UINT_MAX : (unsigned int)bytes_per_s;
    (void)setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof rate);
  }
  *out = ch;
  return FSN_OK;
}

fsn_status fsn_accept(fsn_listener *l, fsn_channel **out, const fsn_channel_opts *opts) {
  *out = NULL;
  int timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  for (;;) {
    fsn_status st = wait_fd(l->fd, POLLIN, timeout, "accept");
    if (st != FSN_OK) return st;
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) return fsn_channel_from_fd(out, fd, opts);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
      return fsn_fail(FSN_E_IO, "accept on port %u: %s", l->port, strerror(errno));
  }
}

/* One attempt on one address; returns the errno of the failure (0 = connected). */
static int try_connect(int fd, const struct addrinfo *a, int timeout_ms) {
  if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  if (wait_fd(fd, POLLOUT, timeout_ms, "connect") != FSN_OK) return ETIMEDOUT;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

/* Retries refused connections until the timeout, so two parties may be started in either order. */
fsn_status fsn_connect(fsn_channel **out, const char *host_port, const fsn_channel_opts *opts) {
  *out = NULL;
  int timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  struct addrinfo *res;
  fsn_status st = resolve(&res, host_port, 0);
  if (st != FSN_OK) return st;
  uint64_t start = fsn_net_now_ns();
  int err = 0;
  for (;;) {
    for (struct addrinfo *a = res; a; a = a->ai_next) {
      int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd < 0) {
        err = errno;
        continue;
      }
      uint64_t spent = elapsed_ms(start);
      err = try_connect(fd, a, spent >= (uint64_t)timeout ? 1 : timeout - (int)spent);
      if (err == 0) {
        freeaddrinfo(res);
        return fsn_channel_from_fd(out, fd, opts);
      }
      close(fd);
    }
    if ((err != ECONNREFUSED && err != EAGAIN) || elapsed_ms(start) + 50 >= (uint64_t)timeout) break;
    struct timespec pause = {0, 50 * 1000000};
    nanosleep(&pause, NULL);
  }
  freeaddrinfo(res);
  if (err == ETIMEDOUT) return fsn_fail(FSN_E_TIMEOUT, "connect to '%s': no answer within %d ms", host_port, timeout);
  return fsn_fail(FSN_E_IO, "connect to '%s': %s (tried for %llu ms)", host_port, strerror(err),
                  (unsigned long long)elapsed_ms(start));
}

void fsn_channel_destroy(fsn_channel *ch) {
  if (!ch) return;
  close(ch->fd);
  shared_link_release(ch->shared);
  free(ch->wbuf);
  free(ch->rbuf);
  free(ch->phases);
  free(ch);
}

int fsn_channel_fd(const fsn_channel *ch) { return ch->fd; }
uint64_t fsn_channel_session_id(const fsn_channel *ch) { return ch->session_id; }

/* ---- failure bookkeeping ---- */

static fsn_status broke(fsn_channel *ch, fsn_status st) {
  if (st != FSN_OK && st != FSN_E_INVALID && ch->broken == FSN_OK) {
    ch->broken = st;
    snprintf(ch->broken_why, sizeof ch->broken_why, "%s", fsn_last_error());
  }
  return st;
}

static fsn_status usable(fsn_channel *ch, const char *op) {
  if (ch->broken != FSN_OK)
    return fsn_fail(ch->broken, "%s: channel unusable after an earlier error (%s)", op, ch->broken_why);
  if (!ch->handshaken) return fsn_fail(FSN_E_INVALID, "%s: the channel has not completed its handshake", op);
  return FSN_OK;
}

/* ---- raw I/O ---- */

static void count_wire_sent(fsn_channel *ch, uint64_t k) {
  ch->total.wire_bytes_sent += k;
  if (ch->cur_phase != SIZE_MAX) ch->phases[ch->cur_phase].c.wire_bytes_sent += k;
}

static void count_wire_recv(fsn_channel *ch, uint64_t k) {
  ch->total.wire_bytes_recv += k;
  if (ch->cur_phase != SIZE_MAX) ch->phases[ch->cur_phase].c.wire_bytes_recv += k;
}

/* Write a then b completely (one sendmsg for both when the socket takes them). */
static fsn_status write_all(fsn_channel *ch, const void *a, size_t na, const void *b, size_t nb) {
  struct iovec iov[2] = {{(void *)a, na}, {(void *)b, nb}}, *v = iov;
  int cnt = 2;
  while (cnt && v->iov_len == 0) v++, cnt--;
  while (cnt > 0) {
    struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)cnt};
    ssize_t k = sendmsg(ch->fd, &m, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        fsn_status st = wait_channel(ch, POLLOUT, "send");
        if (st != FSN_OK) return ch->write_failed = 1, st;
        continue;
      }
      ch->write_failed = 1;
      if (errno == EPIPE || errno == ECONNRESET)
        return fsn_fail(FSN_E_CLOSED, "send: peer closed the connection (%s)", strerror(errno));
      return fsn_fail(FSN_E_IO, "send: %s", strerror(errno));
    }
    count_wire_sent(ch, (uint64_t)k);
    size_t left = (size_t)k;
    while (cnt && left >= v->iov_len) left -= v->iov_len, v++, cnt--;
    if (cnt) v->iov_base = (char *)v->iov_base + left, v->iov_len -= left;
  }
  return FSN_OK;
}

/* Where a read stands, for the error message: `done` of `total` bytes of `what`. */
typedef struct read_ctx {
  const char *what;
  uint64_t done, total;
} read_ctx;

/* One recv into dst (up to cap bytes) after waiting for data; *got > 0 on success. */
static fsn_status recv_some(fsn_channel *ch, void *dst, size_t cap, size_t *got, const read_ctx *rc) {
  for (;;) {
    ssize_t k = recv(ch->fd, dst, cap, 0);
    if (k > 0) {
      *got = (size_t)k;
      return FSN_OK;
    }
    if (k == 0) {
      if (rc->done == 0 && strstr(rc->what, "header"))
        return fsn_fail(FSN_E_CLOSED, "recv: peer closed the connection while this side waited for a frame");
      return fsn_fail(FSN_E_CLOSED, "recv: peer closed the connection after %llu of %llu %s bytes",
                      (unsigned long long)rc->done, (unsigned long long)rc->total, rc->what);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      char what[80];
      snprintf(what, sizeof what, "recv (%llu of %llu %s bytes)", (unsigned long long)rc->done,
               (unsigned long long)rc->total, rc->what);
      fsn_status st = wait_channel(ch, POLLIN, what);
      if (st != FSN_OK) return st;
      continue;
    }
    if (errno == ECONNRESET) return fsn_fail(FSN_E_CLOSED, "recv: connection reset by peer");
    return fsn_fail(FSN_E_IO, "recv: %s", strerror(errno));
  }
}

/* Make at least k <= RBUF_BYTES unread bytes available at rbuf + rpos. */
static fsn_status ensure(fsn_channel *ch, size_t k, read_ctx rc) {
  if (ch->rlen - ch->rpos >= k) return FSN_OK;
  if (ch->rpos) {
    memmove(ch->rbuf, ch->rbuf + ch->rpos, ch->rlen - ch->rpos);
    ch->rlen -= ch->rpos;
    ch->rpos = 0;
  }
  while (ch->rlen < k) {
    size_t got;
    rc.done += ch->rlen;
    fsn_status st = recv_some(ch, ch->rbuf + ch->rlen, RBUF_BYTES - ch->rlen, &got, &rc);
    rc.done -= ch->rlen;
    if (st != FSN_OK) return st;
    ch->rlen += got;
  }
  return FSN_OK;
}

/* Copy n bytes of the stream into dst: buffered bytes first, large remainders straight from the socket. */
static fsn_status read_into(fsn_channel *ch, uint8_t *dst, size_t n, read_ctx rc) {
  size_t have = ch->rlen - ch->rpos, take = have < n ? have : n;
  if (take) memcpy(dst, ch->rbuf + ch->rpos, take);
  ch->rpos += take;
  dst += take, n -= take, rc.done += take;
  while (n >= RBUF_BYTES / 2) {
    size_t got;
    fsn_status st = recv_some(ch, dst, n, &got, &rc);
    if (st != FSN_OK) return st;
    dst += got, n -= got, rc.done += got;
  }
  if (n == 0) return FSN_OK;
  fsn_status st = ensure(ch, n, rc);
  if (st != FSN_OK) return st;
  memcpy(dst, ch->rbuf + ch->rpos, n);
  ch->rpos += n;
  return FSN_OK;
}

/* ---- frames ---- */

static fsn_status flush(fsn_channel *ch) {
  if (ch->wlen == 0) return FSN_OK;
  fsn_status st = write_all(ch, ch->wbuf, ch->wlen, NULL, 0);
  ch->wlen = 0;
  return st;
}

fsn_status fsn_channel_flush(fsn_channel *ch) {
  if (ch->wlen == 0) return FSN_OK; /* nothing to send cannot fail, even on a channel that broke earlier */
  fsn_status st = usable(ch, "flush");
  if (st != FSN_OK) return st;
  return broke(ch, flush(ch));
}

/* When a frame of `len` payload bytes will have left the emulated link: the link serialises frames back to back at
 * the profile bandwidth, starting no earlier than now. */
static uint64_t emulated_departure(fsn_channel *ch, uint64_t len) {
  double tx_ns = ch->link.bandwidth_bps > 0 ? (double)(len + FSN_FRAME_HEADER_BYTES) * 8e9 / ch->link.bandwidth_bps : 0;
  uint64_t now = fsn_net_now_ns(), tx = (uint64_t)llround(tx_ns);
  if (!ch->shared) {
    uint64_t start = ch->link_free_ns > now ? ch->link_free_ns : now;
    return ch->link_free_ns = start + tx;
  }
  uint64_t seen = atomic_load(&ch->shared->free_ns), done;
  do done = (seen > now ? seen : now) + tx;
  while (!atomic_compare_exchange_weak(&ch->shared->free_ns, &seen, done));
  return done;
}

static void count_sent(fsn_channel *ch, uint64_t bytes) {
  fsn_counters *c[2] = {&ch->total, ch->cur_phase != SIZE_MAX ? &ch->phases[ch->cur_phase].c : NULL};
  for (int i = 0; i < 2 && c[i]; i++) c[i]->bytes_sent += bytes, c[i]->msgs_sent++;
  ch->last_dir = DIR_SEND;
}

static void count_recv(fsn_channel *ch, uint64_t bytes) {
  fsn_counters *c[2] = {&ch->total, ch->cur_phase != SIZE_MAX ? &ch->phases[ch->cur_phase].c : NULL};
  int turn = ch->last_dir == DIR_SEND;
  for (int i = 0; i < 2 && c[i]; i++) c[i]->bytes_recv += bytes, c[i]->msgs_recv++, c[i]->rounds += (uint64_t)turn;
  count_wire_recv(ch, bytes + FSN_FRAME_HEADER_BYTES); /* counted as consumed, so read-ahead never skews phases */
  ch->last_dir = DIR_RECV;
}

/* Queue the header of a frame of len bytes; the payload follows through put_payload / put_direct. */
static fsn_status put_header(fsn_channel *ch, uint8_t kind, uint64_t len) {
  fsn_wire_header h = {.kind = kind, .length = len, .stamp_ns = ch->emulate ? emulated_departure(ch, len) : 0};
  if (WBUF_BYTES - ch->wlen < FSN_FRAME_HEADER_BYTES) {
    fsn_status st = flush(ch);
    if (st != FSN_OK) return st;
  }
  fsn_wire_header_encode(ch->wbuf + ch->wlen, &h);
  ch->wlen += FSN_FRAME_HEADER_BYTES;
  return FSN_OK;
}

/* Reserve k <= WBUF_BYTES bytes at the end of the write buffer, flushing first if they do not fit. */
static fsn_status reserve(fsn_channel *ch, size_t k, uint8_t **at) {
  if (WBUF_BYTES - ch->wlen < k) {
    fsn_status st = flush(ch);
    if (st != FSN_OK) return st;
  }
  *at = ch->wbuf + ch->wlen;
  ch->wlen += k;
  return FSN_OK;
}

/* With emulation on, each frame is handed to the socket when complete, so its stamp matches its real departure. */
static fsn_status end_frame(fsn_channel *ch) { return ch->emulate ? flush(ch) : FSN_OK; }

static fsn_status send_frame(fsn_channel *ch, uint8_t kind, const void *buf, size_t n) {
  fsn_status st = put_header(ch, kind, n);
  if (st != FSN_OK) return st;
  if (n > WBUF_BYTES / 2 || WBUF_BYTES - ch->wlen < n) {
    /* Large payloads skip the copy: the buffered bytes (ending with this header) and the payload in one call. */
    st = write_all(ch, ch->wbuf, ch->wlen, buf, n);
    ch->wlen = 0;
    return st;
  }
  if (n) memcpy(ch->wbuf + ch->wlen, buf, n);
  ch->wlen += n;
  return end_frame(ch);
}

static fsn_status check_send(fsn_channel *ch, uint64_t n, const char *op) {
  fsn_status st = usable(ch, op);
  if (st != FSN_OK) return st;
  if (n > ch->peer_max_frame)
    return fsn_fail(FSN_E_INVALID, "%s: frame of %llu bytes is above the peer's limit of %llu", op,
                    (unsigned long long)n, (unsigned long long)ch->peer_max_frame);
  return FSN_OK;
}

fsn_status fsn_channel_send_error(fsn_channel *ch, const char *why) {
  if (!ch->handshaken || ch->write_failed) return fsn_fail(FSN_E_INVALID, "send_error: the channel cannot send");
  size_t n = strnlen(why, FSN_WIRE_ERROR_MAX);
  fsn_status st = send_frame(ch, FSN_WIRE_KIND_ERROR, why, n);
  if (st == FSN_OK) st = flush(ch);
  return broke(ch, st);
}

fsn_status fsn_channel_send(fsn_channel *ch, const void *buf, size_t n) {
  fsn_status st = check_send(ch, n, "send");
  if (st != FSN_OK) return st;
  st = send_frame(ch, FSN_WIRE_KIND_DATA, buf, n);
  if (st == FSN_OK) count_sent(ch, n);
  return broke(ch, st);
}

/* The peer ended the session with an error frame of len bytes: report its reason, printable ASCII only. */
static fsn_status peer_error(fsn_channel *ch, uint64_t len) {
  if (len > FSN_WIRE_ERROR_MAX)
    return fsn_fail(FSN_E_PROTOCOL, "recv: error frame of %llu bytes (at most %d)", (unsigned long long)len,
                    FSN_WIRE_ERROR_MAX);
  char why[FSN_WIRE_ERROR_MAX + 1];
  fsn_status st = read_into(ch, (uint8_t *)why, len, (read_ctx){"error frame", 0, len});
  if (st != FSN_OK) return st;
  for (size_t i = 0; i < len; i++)
    if (why[i] < 0x20 || why[i] > 0x7e) why[i] = '?';
  why[len] = 0;
  return fsn_fail(FSN_E_CLOSED, "the peer ended the session: %s", why);
}

/* Read the next header; it must be of `kind` and at most `limit` bytes long. */
static fsn_status get_header(fsn_channel *ch, uint8_t kind, uint64_t limit, fsn_wire_header *h) {
  fsn_status st = ensure(ch, FSN_FRAME_HEADER_BYTES, (read_ctx){"header", 0, FSN_FRAME_HEADER_BYTES});
  if (st != FSN_OK) return st;
  st = fsn_wire_header_decode(h, ch->rbuf + ch->rpos);
  if (st != FSN_OK) return st;
  ch->rpos += FSN_FRAME_HEADER_BYTES;
  if (h->kind == FSN_WIRE_KIND_ERROR && kind != FSN_WIRE_KIND_ERROR) return peer_error(ch, h->length);
  if (h->kind != kind)
    return fsn_fail(FSN_E_PROTOCOL, "recv: expected a frame of kind %u (%s), got kind %u", kind,
                    kind == FSN_WIRE_KIND_DATA ? "data" : "handshake", h->kind);
  if (h->length > limit)
    return fsn_fail(FSN_E_PROTOCOL, "recv: frame length %llu is above the limit of %llu bytes",
                    (unsigned long long)h->length, (unsigned long long)limit);
  return FSN_OK;
}

/* Emulated delivery: not before the frame left the sender's emulated link plus the one-way delay. */
static fsn_status deliver(fsn_channel *ch, const fsn_wire_header *h) {
  if (!ch->emulate || h->stamp_ns == 0) return FSN_OK;
  int64_t local_departure = (int64_t)h->stamp_ns - ch->peer_clock_offset_ns;
  int64_t due = local_departure + (int64_t)llround(ch->link.rtt_s * 0.5e9), now = (int64_t)fsn_net_now_ns();
  if (due - now > (int64_t)ch->timeout_ms * 1000000)
    return fsn_fail(FSN_E_PROTOCOL, "recv: frame stamped for delivery %.3f s from now, beyond the %d ms timeout",
                    (double)(due - now) / 1e9, ch->timeout_ms);
  if (due > now) fsn_net_sleep_until_ns((uint64_t)due);
  return FSN_OK;
}

/* Receive the header of a data frame that must carry exactly n bytes. */
static fsn_status begin_recv(fsn_channel *ch, uint64_t n, const char *op, fsn_wire_header *h) {
  fsn_status st = usable(ch, op);
  if (st != FSN_OK) return st;
  if ((st = flush(ch)) != FSN_OK) return st;
  if ((st = get_header(ch, FSN_WIRE_KIND_DATA, ch->max_frame, h)) != FSN_OK) return st;
  if (h->length != n)
    return fsn_fail(FSN_E_PROTOCOL, "%s: expected a frame of %llu bytes, the peer sent %llu", op, (unsigned long long)n,
                    (unsigned long long)h->length);
  return FSN_OK;
}

fsn_status fsn_channel_recv(fsn_channel *ch, void *buf, size_t n) {
  fsn_wire_header h;
  fsn_status st = begin_recv(ch, n, "recv", &h);
  if (st == FSN_OK) st = read_into(ch, buf, n, (read_ctx){"payload", 0, n});
  if (st == FSN_OK) st = deliver(ch, &h);
  if (st == FSN_OK) count_recv(ch, n);
  return broke(ch, st);
}

/* ---- ring and bit vectors: packed chunk by chunk straight into / out of the channel buffers ---- */

static void pack_bits(uint8_t *out, const uint8_t *bits, size_t n) {
  memset(out, 0, (n + 7) / 8);
  for (size_t j = 0; j < n; j++) out[j / 8] |= (uint8_t)((bits[j] & 1u) << (j % 8));
}

static fsn_status unpack_bits(uint8_t *bits, const uint8_t *in, size_t n) {
  for (size_t j = 0; j < n; j++) bits[j] = (in[j / 8] >> (j % 8)) & 1u;
  if (n % 8 && in[n / 8] >> (n % 8))
    return fsn_fail(FSN_E_PROTOCOL, "packed bit vector (n=%zu): padding bits of the last byte are not zero", n);
  return FSN_OK;
}

static fsn_status check_vector(size_t n, unsigned ell, const char *op) {
  if (ell < 1 || ell > 64) return fsn_fail(FSN_E_INVALID, "%s: ell %u outside 1..64", op, ell);
  if (n > SIZE_MAX / 8) return fsn_fail(FSN_E_INVALID, "%s: %zu elements overflow a frame length", op, n);
  return FSN_OK;
}

/* ell = 0 means a bit vector (0/1 bytes, 8 per wire byte). */
static size_t vector_bytes(size_t n, unsigned ell) { return ell ? fsn_wire_packed_bytes(n, ell) : (n + 7) / 8; }

static fsn_status send_vector(fsn_channel *ch, const void *v, size_t n, unsigned ell, const char *op) {
  size_t len = vector_bytes(n, ell);
  fsn_status st = check_send(ch, len, op);
  if (st != FSN_OK) return st;
  st = put_header(ch, FSN_WIRE_KIND_DATA, len);
  for (size_t i = 0; st == FSN_OK && i < n; i += CHUNK_ELEMS) {
    size_t k = n - i < CHUNK_ELEMS ? n - i : CHUNK_ELEMS;
    uint8_t *at;
    st = reserve(ch, vector_bytes(k, ell), &at);
    if (st != FSN_OK) break;
    if (ell)
      fsn_wire_pack(at, (const uint64_t *)v + i, k, ell);
    else
      pack_bits(at, (const uint8_t *)v + i, k);
  }
  if (st == FSN_OK) st = end_frame(ch);
  if (st == FSN_OK) count_sent(ch, len);
  return broke(ch, st);
}

static fsn_status recv_vector(fsn_channel *ch, void *v, size_t n, unsigned ell, const char *op) {
  size_t len = vector_bytes(n, ell);
  fsn_wire_header h;
  fsn_status st = begin_recv(ch, len, op, &h);
  uint64_t done = 0;
  for (size_t i = 0; st == FSN_OK && i < n; i += CHUNK_ELEMS) {
    size_t k = n - i < CHUNK_ELEMS ? n - i : CHUNK_ELEMS, bytes = vector_bytes(k, ell);
    st = ensure(ch, bytes, (read_ctx){"payload", done, len});
    if (st != FSN_OK) break;
    const uint8_t *in = ch->rbuf + ch->rpos;
    st = ell ? fsn_wire_unpack((uint64_t *)v + i, in, k, ell) : unpack_bits((uint8_t *)v + i, in, k);
    ch->rpos += bytes;
    done += bytes;
  }
  if (st == FSN_OK) st = deliver(ch, &h);
  if (st == FSN_OK) count_recv(ch, len);
  return broke(ch, st);
}

fsn_status fsn_channel_send_ring(fsn_channel *ch, const uint64_t *v, size_t n, unsigned ell) {
  fsn_status st = check_vector(n, ell, "send_ring");
  return st != FSN_OK ? st : send_vector(ch, v, n, ell, "send_ring");
}

fsn_status fsn_channel_recv_ring(fsn_channel *ch, uint64_t *v, size_t n, unsigned ell) {
  fsn_status st = check_vector(n, ell, "recv_ring");
  return st != FSN_OK ? st : recv_vector(ch, v, n, ell, "recv_ring");
}

fsn_status fsn_channel_send_bits(fsn_channel *ch, const uint8_t *bits, size_t n) {
  return send_vector(ch, bits, n, 0, "send_bits");
}

fsn_status fsn_channel_recv_bits(fsn_channel *ch, uint8_t *bits, size_t n) {
  return recv_vector(ch, bits, n, 0, "recv_bits");
}

/* ---- handshake ---- */

static fsn_status send_hello(fsn_channel *ch, uint8_t kind, const fsn_wire_hello *h) {
  uint8_t b[FSN_WIRE_HELLO_SIZE];
  fsn_wire_hello_encode(b, h);
  fsn_status st = send_frame(ch, kind, b, sizeof b);
  return st == FSN_OK ? flush(ch) : st;
}

static fsn_status recv_hello(fsn_channel *ch, uint8_t kind, fsn_wire_hello *h) {
  fsn_wire_header hdr;
  fsn_status st = ensure(ch, FSN_FRAME_HEADER_BYTES, (read_ctx){"handshake header", 0, FSN_FRAME_HEADER_BYTES});
  if (st != FSN_OK) return st;
  if (fsn_wire_header_decode(&hdr, ch->rbuf + ch->rpos) != FSN_OK)
    return fsn_fail(FSN_E_MISMATCH, "handshake: the peer does not speak the fusion protocol (%s)", fsn_last_error());
  if ((st = get_header(ch, kind, FSN_WIRE_HELLO_MAX, &hdr)) != FSN_OK) return st;
  uint8_t b[FSN_WIRE_HELLO_MAX];
  if ((st = read_into(ch, b, hdr.length, (read_ctx){"handshake", 0, hdr.length})) != FSN_OK) return st;
  return fsn_wire_hello_decode(h, b, hdr.length);
}

static fsn_status check_hello_args(const fsn_wire_hello *mine) {
  if (mine->role > 1) return fsn_fail(FSN_E_INVALID, "handshake: role %u is neither server nor client", mine->role);
  if (mine->ell < 1 || mine->ell > 64) return fsn_fail(FSN_E_INVALID, "handshake: ell %u outside 1..64", mine->ell);
  if (mine->scale >= mine->ell)
    return fsn_fail(FSN_E_INVALID, "handshake: scale %u not below ell %u", mine->scale, mine->ell);
  return FSN_OK;
}

static fsn_status check_fresh(fsn_channel *ch) {
  if (ch->handshaken) return fsn_fail(FSN_E_INVALID, "handshake: already done on this channel");
  return ch->broken != FSN_OK ? usable(ch, "handshake") : FSN_OK;
}

/* Receive the peer's hello; a peer of another version or no fusion peer at all is told so before this side leaves,
 * so it fails clearly too, and a server's refusal ends the handshake here. */
static fsn_status recv_peer_hello(fsn_channel *ch, const fsn_wire_hello *mine, fsn_wire_hello *peer) {
  fsn_status st = recv_hello(ch, FSN_WIRE_KIND_HELLO, peer);
  if (st == FSN_E_MISMATCH) {
    char why[256];
    snprintf(why, sizeof why, "%s", fsn_last_error());
    fsn_wire_hello verdict = *mine;
    verdict.verdict = peer->magic != FSN_WIRE_MAGIC ? FSN_VERDICT_MAGIC : FSN_VERDICT_VERSION;
    (void)send_hello(ch, FSN_WIRE_KIND_VERDICT, &verdict);
    return broke(ch, fsn_fail(FSN_E_MISMATCH, "%s", why));
  }
  if (st != FSN_OK) return broke(ch, st);
  if (peer->verdict == FSN_VERDICT_BUSY || peer->verdict == FSN_VERDICT_CROWDED)
    return broke(ch, fsn_fail(FSN_E_CLOSED, "handshake: the server refused the connection (%s); try again later",
                              fsn_wire_verdict_name(peer->verdict)));
  return FSN_OK;
}

/* Both hellos are out: exchange verdicts (`forced`, if not OK, overrides this side's own check) and take the
 * session's parameters. */
static fsn_status finish_handshake(fsn_channel *ch, const fsn_wire_hello *mine, const fsn_wire_hello *peer,
                                   uint64_t t_recv, fsn_wire_verdict forced) {
  char why[256];
  fsn_wire_hello verdict = *mine, peer_verdict = {0};
  verdict.verdict = (uint8_t)fsn_wire_hello_check(mine, peer, why, sizeof why);
  if (forced != FSN_VERDICT_OK) {
    verdict.verdict = (uint8_t)forced;
    snprintf(why, sizeof why, "this side refuses the peer's %s", fsn_wire_verdict_name(forced));
  }
  verdict.t_recv_ns = t_recv;
  verdict.session_id = mine->role == FSN_ROLE_CLIENT ? mine->session_id : peer->session_id; /* the server echoes */
  fsn_status st = send_hello(ch, FSN_WIRE_KIND_VERDICT, &verdict);
  if (st == FSN_OK) st = recv_hello(ch, FSN_WIRE_KIND_VERDICT, &peer_verdict);
  if (verdict.verdict != FSN_VERDICT_OK) return broke(ch, fsn_fail(FSN_E_MISMATCH, "handshake: %s", why));
  if (st != FSN_OK) return broke(ch, st);
  if (peer_verdict.verdict != FSN_VERDICT_OK)
    return broke(ch, fsn_fail(FSN_E_MISMATCH, "handshake: the peer rejected this side's %s",
                              fsn_wire_verdict_name(peer_verdict.verdict)));
  if (peer_verdict.session_id != verdict.session_id)
    return broke(ch, fsn_fail(FSN_E_MISMATCH, "handshake: session id echoed as 0x%016llx, expected 0x%016llx",
                              (unsigned long long)peer_verdict.session_id, (unsigned long long)verdict.session_id));
  /* NTP's estimate: offset = ((their receipt - our send) + (their send - our receipt)) / 2. */
  /* The peer's stamps are data: add the differences in unsigned arithmetic (no signed overflow on hostile values). */
  const uint64_t there = peer_verdict.t_recv_ns - mine->t_send_ns, back = peer->t_send_ns - t_recv;
  ch->peer_clock_offset_ns = (int64_t)(there + back) / 2;
  ch->session_id = verdict.session_id;
  ch->peer_max_frame = peer->max_frame;
  ch->handshaken = 1;
  ch->link_free_ns = 0;
  fsn_channel_reset_counters(ch);
  ch->last_dir = DIR_NONE;
  return FSN_OK;
}

fsn_status fsn_channel_handshake_hello(fsn_channel *ch, const fsn_wire_hello *mine_in) {
  fsn_status st = check_fresh(ch);
  if (st != FSN_OK) return st;
  fsn_wire_hello mine = *mine_in, peer = {0};
  if ((st = check_hello_args(&mine)) != FSN_OK) return st;
  /* Both parties speak first and then listen, so no pair of roles (even a wrong one) can deadlock. */
  mine.t_send_ns = fsn_net_now_ns();
  st = send_hello(ch, FSN_WIRE_KIND_HELLO, &mine);
  if (st != FSN_OK) return broke(ch, st);
  if ((st = recv_peer_hello(ch, &mine, &peer)) != FSN_OK) return st;
  return finish_handshake(ch, &mine, &peer, fsn_net_now_ns(), FSN_VERDICT_OK);
}

fsn_status fsn_channel_handshake_respond(fsn_channel *ch, const fsn_wire_hello *mine_in, fsn_wire_admit_fn admit,
                                         void *arg) {
  fsn_status st = check_fresh(ch);
  if (st != FSN_OK) return st;
  fsn_wire_hello mine = *mine_in, peer = {0};
  if ((st = check_hello_args(&mine)) != FSN_OK) return st;
  if ((st = recv_peer_hello(ch, &mine, &peer)) != FSN_OK) return st;
  uint64_t t_recv = fsn_net_now_ns();
  fsn_wire_verdict v = admit(arg, &peer, &mine);
  if (v == FSN_VERDICT_BUSY || v == FSN_VERDICT_CROWDED) {
    mine.verdict = (uint8_t)v;
    (void)send_hello(ch, FSN_WIRE_KIND_HELLO, &mine);
    return broke(ch, fsn_fail(FSN_E_CLOSED, "handshake: refused the client (%s)", fsn_wire_verdict_name(v)));
  }
  if ((st = check_hello_args(&mine)) != FSN_OK) return st;
  mine.t_send_ns = fsn_net_now_ns();
  st = send_hello(ch, FSN_WIRE_KIND_HELLO, &mine);
  if (st != FSN_OK) return broke(ch, st);
  return finish_handshake(ch, &mine, &peer, t_recv, v);
}

static uint64_t fresh_session_id(void) {
  uint64_t id = 0;
  while (id == 0) randombytes_buf(&id, sizeof id);
  return id;
}

static void channel_opts_of(const fsn_channel *ch, fsn_channel_opts *o) {
  *o = (fsn_channel_opts){.timeout_ms = ch->timeout_ms, .max_frame = ch->max_frame, .link = ch->link};
}

fsn_status fsn_channel_handshake(fsn_channel *ch, fsn_role role, const fsn_channel_params *p) {
  if (!p) return fsn_fail(FSN_E_INVALID, "handshake: NULL parameters");
  fsn_channel_params q = *p;
  if (role == FSN_ROLE_CLIENT && q.session_id == 0) q.session_id = fresh_session_id();
  fsn_channel_opts o;
  channel_opts_of(ch, &o);
  fsn_wire_hello h;
  fsn_wire_hello_make(&h, role, &q, 0, 1, &o);
  return fsn_channel_handshake_hello(ch, &h);
}

/* ---- sessions of several channels ---- */

void fsn_channels_close(fsn_channel **chs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fsn_channel_destroy(chs[i]);
    chs[i] = NULL;
  }
}

static fsn_status session_open(fsn_listener *l, const char *host_port, fsn_channel **chs, size_t n, fsn_role role,
                               const fsn_channel_params *p, const fsn_channel_opts *opts) {
  if (n == 0 || n > UINT32_MAX || !p) return fsn_fail(FSN_E_INVALID, "session: %zu channels", n);
  for (size_t i = 0; i < n; i++) chs[i] = NULL;
  fsn_channel_params q = *p;
  if (role == FSN_ROLE_CLIENT && q.session_id == 0) q.session_id = fresh_session_id();
  fsn_channel_opts o = opts ? *opts : (fsn_channel_opts){0};
  fsn_channel_opts_resolve(&o);
  /* Channel i is opened and shaken hands with before channel i + 1 is connected, so indices pair up in order. */
  for (size_t i = 0; i < n; i++) {
    fsn_status st = l ? fsn_accept(l, &chs[i], &o) : fsn_connect(&chs[i], host_port, &o);
    if (st == FSN_OK) {
      fsn_wire_hello h;
      fsn_wire_hello_make(&h, role, &q, (uint32_t)i, (uint32_t)n, &o);
      st = fsn_channel_handshake_hello(chs[i], &h);
    }
    if (st != FSN_OK) {
      fsn_channels_close(chs, n);
      return st;
    }
    q.session_id = fsn_channel_session_id(chs[0]); /* the server then insists on the same id on every channel */
  }
  fsn_status st = fsn_channels_join(chs, n);
  if (st != FSN_OK) fsn_channels_close(chs, n);
  return st;
}

fsn_status fsn_channels_join(fsn_channel **chs, size_t n) {
  if (n < 2 || !chs[0]->emulate) return FSN_OK;
  shared_link *s = calloc(1, sizeof *s);
  if (!s) return fsn_fail(FSN_E_NOMEM, "channel group: out of memory");
  atomic_init(&s->free_ns, 0);
  atomic_init(&s->refs, (int)n);
  for (size_t i = 0; i < n; i++) chs[i]->shared = s;
  return FSN_OK;
}

void fsn_channels_set_deadline(fsn_channel *const *chs, size_t n, double seconds) {
  uint64_t at = seconds > 0 ? fsn_net_now_ns() + (uint64_t)(seconds * 1e9) : 0;
  for (size_t i = 0; i < n; i++)
    if (chs[i]) chs[i]->deadline_ns = at;
}

fsn_status fsn_channels_accept(fsn_listener *l, fsn_channel **chs, size_t n, fsn_role role, const fsn_channel_params *p,
                               const fsn_channel_opts *opts) {
  return session_open(l, NULL, chs, n, role, p, opts);
}

fsn_status fsn_channels_connect(fsn_channel **chs, size_t n, const char *host_port, fsn_role role,
                                const fsn_channel_params *p, const fsn_channel_opts *opts) {
  return session_open(NULL, host_port, chs, n, role, p, opts);
}

/* ---- counters and phases ---- */

void fsn_channel_counters(const fsn_channel *ch, fsn_counters *out) { *out = ch->total; }

void fsn_channel_reset_counters(fsn_channel *ch) {
  memset(&ch->total, 0, sizeof ch->total);
  for (size_t i = 0; i < ch->nphases; i++) memset(&ch->phases[i].c, 0, sizeof ch->phases[i].c);
}

fsn_status fsn_channel_set_phase(fsn_channel *ch, const char *name) {
  if (!name || !name[0]) {
    ch->cur_phase = SIZE_MAX;
    return FSN_OK;
  }
  size_t len = strlen(name);
  if (len >= PHASE_NAME) return fsn_fail(FSN_E_INVALID, "phase name of %zu bytes, at most %d", len, PHASE_NAME - 1);
  for (size_t i = 0; i < ch->nphases; i++)
    if (!strcmp(ch->phases[i].name, name)) {
      ch->cur_phase = i;
      return FSN_OK;
    }
  if (ch->nphases == MAX_PHASES) return fsn_fail(FSN_E_INVALID, "more than %d phases on one channel", MAX_PHASES);
  if (ch->nphases == ch->phase_cap) {
    size_t cap = ch->phase_cap ? 2 * ch->phase_cap : 16;
    phase *p = realloc(ch->phases, cap * sizeof *p);
    if (!p) return fsn_fail(FSN_E_NOMEM, "phases: out of memory for %zu entries", cap);
    ch->phases = p;
    ch->phase_cap = cap;
  }
  phase *p = &ch->phases[ch->nphases];
  memset(p, 0, sizeof *p);
  memcpy(p->name, name, len + 1);
  ch->cur_phase = ch->nphases++;
  return FSN_OK;
}

size_t fsn_channel_phase_count(const fsn_channel *ch) { return ch->nphases; }
const char *fsn_channel_phase_name(const fsn_channel *ch, size_t i) {
  return i < ch->nphases ? ch->phases[i].name : "";
}

void fsn_channel_phase_counters(const fsn_channel *ch, size_t i, fsn_counters *out) {
  if (i < ch->nphases)
    *out = ch->phases[i].c;
  else
    memset(out, 0, sizeof *out);
}

fsn_status fsn_channel_phase_find(const fsn_channel *ch, const char *name, fsn_counters *out) {
  for (size_t i = 0; name && i < ch->nphases; i++)
    if (!strcmp(ch->phases[i].name, name)) {
      *out = ch->phases[i].c;
      return FSN_OK;
    }
  return fsn_fail(FSN_E_INVALID, "no phase called '%s' on this channel", name ? name : "(null)");
}

void fsn_counters_add(fsn_counters *acc, const fsn_counters *x) {
  acc->bytes_sent += x->bytes_sent;
  acc->bytes_recv += x->bytes_recv;
  acc->msgs_sent += x->msgs_sent;
  acc->msgs_recv += x->msgs_recv;
  acc->rounds += x->rounds;
  acc->wire_bytes_sent += x->wire_bytes_sent;
  acc->wire_bytes_recv += x->wire_bytes_recv;
}

/* Appends to a bounded buffer and keeps counting past its end, like snprintf. */
typedef struct sink {
  char *buf;
  size_t cap, len;
} sink;

FSN_PRINTF(2, 3) static void put(sink *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = s->len < s->cap ? s->cap - s->len : 0;
  int k = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
  va_end(ap);
  if (k > 0) s->len += (size_t)k;
}

static void put_counters(sink *s, const fsn_counters *c) {
  put(s,
      "\"bytes_sent\":%llu,\"bytes_recv\":%llu,\"msgs_sent\":%llu,\"msgs_recv\":%llu,\"rounds\":%llu,"
      "\"wire_bytes_sent\":%llu,\"wire_bytes_recv\":%llu",
      (unsigned long long)c->bytes_sent, (unsigned long long)c->bytes_recv, (unsigned long long)c->msgs_sent,
      (unsigned long long)c->msgs_recv, (unsigned long long)c->rounds, (unsigned long long)c->wire_bytes_sent,
      (unsigned long long)c->wire_bytes_recv);
}

size_t fsn_counters_json(char *buf, size_t cap, const fsn_counters *c) {
  sink s = {buf, cap, 0};
  if (cap) buf[0] = 0;
  put(&s, "{");
  put_counters(&s, c);
  put(&s, "}");
  return s.len;
}

size_t fsn_channel_counters_json(char *buf, size_t cap, const fsn_channel *ch) {
  sink s = {buf, cap, 0};
  if (cap) buf[0] = 0;
  put(&s, "{");
  put_counters(&s, &ch->total);
  put(&s, ",\"phases\":[");
  for (size_t i = 0; i < ch->nphases; i++) {
    put(&s, "%s{\"name\":\"", i ? "," : "");
    for (const unsigned char *c = (const unsigned char *)ch->phases[i].name; *c; c++) {
      if (*c == '"' || *c == '\\')
        put(&s, "\\%c", *c);
      else if (*c < 0x20)
        put(&s, "\\u%04x", *c);
      else
        put(&s, "%c", *c);
    }
    put(&s, "\",");
    put_counters(&s, &ch->phases[i].c);
    put(&s, "}");
  }
  put(&s, "]}");
  return s.len;
}
