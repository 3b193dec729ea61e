/* The acceptor (include/fusion/acceptor.h): one loop accepts and refuses; each admitted connection shakes hands on
 * a thread of its own (so a slow client delays nobody else), then joins its session's group; a complete group runs
 * on a session thread. One mutex guards the slots, the per-address counts and the counters. */
#include <fusion/acceptor.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/wire.h"

enum { MAX_CHANNELS = 64, ADDR_CAP = 64, LOOP_MS = 100 };

enum { SLOT_FREE, SLOT_FORMING, SLOT_RUNNING };

typedef struct acceptor acceptor;

/* A session's slot: reserved by its channel 0's hello, filled as its channels complete their handshakes. */
typedef struct slot {
  int state;
  uint64_t gen; /* bumped whenever the slot is freed, so a late handshake of an expired group is recognised */
  uint64_t session_id, deadline_ns;
  char addr[ADDR_CAP], peer[ADDR_CAP];
  size_t admitted, joined; /* channels admitted (handshake under way or done), and done */
  fsn_channel *chs[MAX_CHANNELS];
  size_t index;
  acceptor *acc;
} slot;

typedef struct addr_count {
  char addr[ADDR_CAP];
  size_t n;
} addr_count;

struct acceptor {
  pthread_mutex_t mu;
  pthread_cond_t idle; /* signalled when a thread ends */
  fsn_acceptor_opts o;
  fsn_channel_params params;
  fsn_channel_opts chan;
  fsn_acceptor_fn fn;
  void *arg;
  slot *slots;
  addr_count *addrs;
  size_t naddrs, addr_cap;
  size_t pending, running, started;
  int stopping;
  fsn_acceptor_stats stats;
};

/* A connection in its handshake. */
typedef struct conn {
  acceptor *acc;
  fsn_channel *ch;
  char addr[ADDR_CAP], peer[ADDR_CAP];
  slot *slot;
  uint64_t gen;
  size_t index;
  int refused;         /* admit() refused it: busy */
  int hello_seen;      /* admit() ran: the peer is a fusion client */
  uint64_t session_id; /* from its hello */
} conn;

/* ---- per-address counts (under mu) ---- */

static addr_count *addr_find(acceptor *a, const char *addr) {
  for (size_t i = 0; i < a->naddrs; i++)
    if (!strcmp(a->addrs[i].addr, addr)) return &a->addrs[i];
  return NULL;
}

static int addr_take(acceptor *a, const char *addr) {
  addr_count *c = addr_find(a, addr);
  if (c && c->n >= a->o.max_per_address) return 0;
  if (!c) {
    if (a->naddrs == a->addr_cap) return 0; /* cannot happen: every open connection has an entry */
    c = &a->addrs[a->naddrs++];
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    c->n = 0;
  }
  c->n++;
  return 1;
}

static void addr_release(acceptor *a, const char *addr, size_t k) {
  addr_count *c = addr_find(a, addr);
  if (!c) return;
  c->n -= k < c->n ? k : c->n;
  if (c->n == 0) *c = a->addrs[--a->naddrs];
}

/* ---- slots (under mu) ---- */

static void slot_free(acceptor *a, slot *s) {
  for (size_t i = 0; i < s->joined; i++) fsn_channel_destroy(s->chs[i]);
  addr_release(a, s->addr, s->joined);
  memset(s->chs, 0, sizeof s->chs);
  s->state = SLOT_FREE;
  s->gen++;
  pthread_cond_broadcast(&a->idle);
}

static size_t slots_forming(const acceptor *a) {
  size_t k = 0;
  for (size_t i = 0; i < a->o.max_sessions; i++) k += a->slots[i].state == SLOT_FORMING;
  return k;
}

/* Groups that did not complete within the handshake deadline give their slot back. */
static void reap_expired(acceptor *a) {
  uint64_t now = fsn_net_now_ns();
  for (size_t i = 0; i < a->o.max_sessions; i++) {
    slot *s = &a->slots[i];
    if (s->state == SLOT_FORMING && now >= s->deadline_ns) {
      a->stats.failed += s->joined;
      slot_free(a, s);
    }
  }
}

static slot *slot_of_session(acceptor *a, uint64_t id) {
  for (size_t i = 0; i < a->o.max_sessions; i++)
    if (a->slots[i].state != SLOT_FREE && a->slots[i].session_id == id) return &a->slots[i];
  return NULL;
}

/* ---- admission: the peer's hello has arrived ---- */

static fsn_wire_verdict admit(void *arg, const fsn_wire_hello *peer, fsn_wire_hello *mine) {
  conn *c = arg;
  acceptor *a = c->acc;
  c->hello_seen = 1;
  c->session_id = peer->session_id;
  mine->session_id = peer->session_id;
  mine->chan_index = peer->chan_index;
  if (peer->chan_count != a->o.channels || peer->chan_index >= a->o.channels || peer->session_id == 0)
    return FSN_VERDICT_OK; /* the hello check names the disagreement */
  fsn_wire_verdict v = FSN_VERDICT_OK;
  pthread_mutex_lock(&a->mu);
  slot *s = slot_of_session(a, peer->session_id);
  if (peer->chan_index == 0) {
    slot *free_slot = NULL;
    for (size_t i = 0; i < a->o.max_sessions && !free_slot; i++)
      if (a->slots[i].state == SLOT_FREE) free_slot = &a->slots[i];
    int over = a->stopping || (a->o.sessions && a->started + slots_forming(a) >= a->o.sessions);
    if (s)
      v = FSN_VERDICT_SESSION; /* a second channel 0 of a session: a replay or a confused client */
    else if (!free_slot || over)
      v = FSN_VERDICT_BUSY;
    else {
      s = free_slot;
      s->state = SLOT_FORMING;
      s->session_id = peer->session_id;
      s->deadline_ns = fsn_net_now_ns() + (uint64_t)(a->o.handshake_s * 1e9);
      s->admitted = s->joined = 0;
      snprintf(s->addr, sizeof s->addr, "%s", c->addr);
      snprintf(s->peer, sizeof s->peer, "%s", c->peer);
    }
  } else if (!s || s->state != SLOT_FORMING || strcmp(s->addr, c->addr) || s->admitted != peer->chan_index) {
    v = FSN_VERDICT_CHANNEL; /* not the next channel of a session this address is forming */
  }
  c->refused = v == FSN_VERDICT_BUSY;
  if (v == FSN_VERDICT_OK) {
    s->admitted++;
    c->slot = s;
    c->gen = s->gen;
    c->index = peer->chan_index;
  }
  pthread_mutex_unlock(&a->mu);
  return v;
}

/* ---- threads ---- */

static void *session_main(void *arg) {
  slot *s = arg;
  acceptor *a = s->acc;
  fsn_channels_set_deadline(s->chs, a->o.channels, a->o.session_s);
  fsn_acceptor_session info = {.index = s->index, .session_id = s->session_id, .chs = s->chs, .n = a->o.channels};
  snprintf(info.peer, sizeof info.peer, "%s", s->peer);
  a->fn(a->arg, &info);
  pthread_mutex_lock(&a->mu);
  slot_free(a, s);
  a->running--;
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

static int spawn(void *(*main_fn)(void *), void *arg) {
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&t, &at, main_fn, arg);
  pthread_attr_destroy(&at);
  return rc == 0;
}

/* The handshake succeeded: join the group; a complete group starts its session. (under mu) */
static void join_group(acceptor *a, conn *c) {
  slot *s = c->slot;
  s->chs[c->index] = c->ch;
  s->joined++;
  c->ch = NULL;
  if (s->joined < a->o.channels) return;
  if (fsn_channels_join(s->chs, s->joined) != FSN_OK) {
    a->stats.failed += s->joined;
    slot_free(a, s);
    return;
  }
  s->state = SLOT_RUNNING;
  s->index = ++a->started;
  a->running++;
  a->stats.sessions++;
  if (!spawn(session_main, s)) {
    a->running--;
    a->stats.failed += s->joined;
    slot_free(a, s);
  }
}

static void *conn_main(void *arg) {
  conn *c = arg;
  acceptor *a = c->acc;
  fsn_channels_set_deadline(&c->ch, 1, a->o.handshake_s);
  fsn_wire_hello mine;
  fsn_wire_hello_make(&mine, FSN_ROLE_SERVER, &a->params, 0, (uint32_t)a->o.channels, &a->chan);
  fsn_status st = fsn_channel_handshake_respond(c->ch, &mine, admit, c);
  char why[512];
  snprintf(why, sizeof why, "%s", st == FSN_OK ? "" : fsn_last_error());
  size_t report = 0; /* the index under which a failed fusion client is logged (0: not) */
  pthread_mutex_lock(&a->mu);
  int live = c->slot && c->slot->gen == c->gen && c->slot->state == SLOT_FORMING;
  if (st == FSN_OK && live) {
    join_group(a, c);
  } else {
    if (c->refused)
      a->stats.refused_busy++;
    else
      a->stats.failed++;
    if (live) slot_free(a, c->slot); /* one channel failed: its whole group goes */
    /* A client that disagrees (ring, channel count, version) is misconfigured: worth a log line. A connection that
     * merely vanishes or stalls in its handshake is counted only, or a flood would flood the log too. */
    if (st == FSN_E_MISMATCH && c->hello_seen && !(a->o.sessions && a->started >= a->o.sessions)) report = ++a->started;
  }
  if (c->ch) {
    fsn_channel_destroy(c->ch);
    addr_release(a, c->addr, 1);
  }
  pthread_mutex_unlock(&a->mu);
  if (report) {
    fsn_acceptor_session info = {.status = st, .error = why, .index = report, .session_id = c->session_id};
    snprintf(info.peer, sizeof info.peer, "%s", c->peer);
    a->fn(a->arg, &info);
  }
  pthread_mutex_lock(&a->mu);
  a->pending--;
  pthread_cond_broadcast(&a->idle);
  pthread_mutex_unlock(&a->mu);
  free(c);
  return NULL;
}

/* ---- the accept loop ---- */

/* "host:port" (or "[v6]:port") and the bare host of a peer address. */
static void name_peer(const struct sockaddr_storage *ss, socklen_t len, char *addr, char *peer) {
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "0";
  (void)getnameinfo((const struct sockaddr *)ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(addr, ADDR_CAP, "%s", host);
  snprintf(peer, ADDR_CAP, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* Refuse without reading: a server hello whose verdict byte says why, then close. What the client already sent is
 * drained first, so the close is a clean FIN and the client reads the refusal rather than a reset. */
static void refuse(int fd, fsn_wire_verdict why, const acceptor *a) {
  fsn_wire_hello h;
  fsn_wire_hello_make(&h, FSN_ROLE_SERVER, &a->params, 0, (uint32_t)a->o.channels, &a->chan);
  h.verdict = (uint8_t)why;
  uint8_t b[FSN_FRAME_HEADER_BYTES + FSN_WIRE_HELLO_SIZE], junk[4096];
  fsn_wire_header_encode(b, &(fsn_wire_header){.kind = FSN_WIRE_KIND_HELLO, .length = FSN_WIRE_HELLO_SIZE});
  fsn_wire_hello_encode(b + FSN_FRAME_HEADER_BYTES, &h);
  (void)send(fd, b, sizeof b, MSG_NOSIGNAL | MSG_DONTWAIT);
  shutdown(fd, SHUT_WR);
  while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0) {
  }
  close(fd);
}

/* Accept what is waiting; admit each connection to a handshake thread or refuse it. */
static fsn_status accept_ready(acceptor *a, int lfd) {
  for (;;) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return FSN_OK;
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM)
        return FSN_OK; /* transient: the loop comes back after its pause */
      return fsn_fail(FSN_E_IO, "accept: %s", strerror(errno));
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
      refuse(fd, FSN_VERDICT_BUSY, a);
      continue;
    }
    c->acc = a;
    name_peer(&ss, len, c->addr, c->peer);
    pthread_mutex_lock(&a->mu);
    a->stats.accepted++;
    fsn_wire_verdict why = FSN_VERDICT_OK;
    if (a->stopping || a->pending >= a->o.max_pending)
      why = FSN_VERDICT_BUSY;
    else if (!addr_take(a, c->addr))
      why = FSN_VERDICT_CROWDED;
    if (why == FSN_VERDICT_OK && fsn_channel_from_fd(&c->ch, fd, &a->chan) != FSN_OK) {
      addr_release(a, c->addr, 1);
      a->stats.failed++;
      pthread_mutex_unlock(&a->mu);
      free(c);
      continue;
    }
    if (why == FSN_VERDICT_OK) {
      a->pending++;
      if (!spawn(conn_main, c)) {
        a->pending--;
        fsn_channel_destroy(c->ch);
        addr_release(a, c->addr, 1);
        a->stats.failed++;
        free(c);
      }
      pthread_mutex_unlock(&a->mu);
      continue;
    }
    if (why == FSN_VERDICT_BUSY)
      a->stats.refused_busy++;
    else
      a->stats.refused_crowd++;
    pthread_mutex_unlock(&a->mu);
    free(c);
    refuse(fd, why, a);
  }
}

static fsn_status check_opts(fsn_acceptor_opts *o) {
  if (o->channels == 0 || o->channels > MAX_CHANNELS)
    return fsn_fail(FSN_E_INVALID, "acceptor: %zu channels per session (1 .. %d)", o->channels, MAX_CHANNELS);
  if (!o->max_sessions) o->max_sessions = 2;
  if (!o->max_per_address) o->max_per_address = 2 * o->channels;
  if (!o->max_pending) o->max_pending = 64;
  if (!(o->handshake_s > 0)) o->handshake_s = 10;
  if (!(o->session_s >= 0)) return fsn_fail(FSN_E_INVALID, "acceptor: negative session deadline");
  if (o->max_sessions > 4096 || o->max_pending > 4096)
    return fsn_fail(FSN_E_INVALID, "acceptor: at most 4096 sessions and 4096 pending connections");
  return FSN_OK;
}

static int stop_requested(const acceptor *a) { return a->o.stop && *a->o.stop; }

fsn_status fsn_acceptor_run(fsn_listener *l, const fsn_channel_params *p, const fsn_channel_opts *chan,
                            const fsn_acceptor_opts *opts, fsn_acceptor_fn fn, void *arg, fsn_acceptor_stats *stats) {
  if (stats) *stats = (fsn_acceptor_stats){0};
  if (!l || !p || !opts || !fn) return fsn_fail(FSN_E_INVALID, "acceptor: NULL argument");
  acceptor a = {.o = *opts, .params = *p, .chan = chan ? *chan : (fsn_channel_opts){0}, .fn = fn, .arg = arg};
  fsn_channel_opts_resolve(&a.chan);
  fsn_status st = check_opts(&a.o);
  if (st != FSN_OK) return st;
  a.addr_cap = a.o.max_pending + a.o.max_sessions * a.o.channels + 1;
  a.slots = calloc(a.o.max_sessions, sizeof *a.slots);
  a.addrs = calloc(a.addr_cap, sizeof *a.addrs);
  if (!a.slots || !a.addrs) {
    free(a.slots), free(a.addrs);
    return fsn_fail(FSN_E_NOMEM, "acceptor: %zu slots", a.o.max_sessions);
  }
  for (size_t i = 0; i < a.o.max_sessions; i++) a.slots[i].acc = &a;
  pthread_mutex_init(&a.mu, NULL);
  pthread_cond_init(&a.idle, NULL);
  int lfd = fsn_listener_fd(l);
  /* Serve until told to stop, then keep refusing newcomers (busy, never a hang) while the sessions drain. */
  for (;;) {
    pthread_mutex_lock(&a.mu);
    reap_expired(&a);
    if (!a.stopping && (stop_requested(&a) || (a.o.sessions && a.started >= a.o.sessions))) a.stopping = 1;
    int drained = a.stopping && a.pending == 0 && a.running == 0 && slots_forming(&a) == 0;
    pthread_mutex_unlock(&a.mu);
    if (drained || st != FSN_OK) break;
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    if (poll(&pfd, 1, LOOP_MS) > 0) st = accept_ready(&a, lfd);
  }
  /* On an accept failure the threads still running end within their deadlines; wait for them all. */
  pthread_mutex_lock(&a.mu);
  a.stopping = 1;
  while (a.pending || a.running || slots_forming(&a)) {
    reap_expired(&a);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += LOOP_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&a.idle, &a.mu, &ts);
  }
  if (stats) *stats = a.stats;
  pthread_mutex_unlock(&a.mu);
  pthread_cond_destroy(&a.idle);
  pthread_mutex_destroy(&a.mu);
  free(a.slots);
  free(a.addrs);
  return st;
}
