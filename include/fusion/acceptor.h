/* Serving many two-party sessions at once from one listener, safely against hostile clients.
 *
 * Each new connection's hello (session id, channel index, channel count) is read first; the acceptor groups a
 * session's channels by session id (channel i must arrive after channel i - 1 completed its handshake, as
 * fsn_channels_connect does), and hands a complete group to a session thread. Limits: at most max_sessions groups
 * forming or running at once (a new session beyond them is refused as busy); at most max_pending connections in
 * their handshake and max_per_address open connections from one client address (the excess is refused at once); a
 * connection must complete its hello and its group within handshake_s of its accept, and a session its whole run
 * within session_s, besides every read's own timeout; so a client that dribbles bytes or never finishes its group
 * holds a slot for a bounded time only. A refused client fails its handshake with FSN_E_CLOSED ("the server refused
 * the connection (server busy: ...)"), never hangs. */
#ifndef FUSION_ACCEPTOR_H
#define FUSION_ACCEPTOR_H

#include <fusion/channel.h>
#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fsn_acceptor_opts {
  size_t channels;        /* channels per session; a client announcing another count is rejected (required) */
  size_t max_sessions;    /* sessions forming or running at once [2] */
  size_t max_per_address; /* open connections from one client address [2 x channels]; SIZE_MAX: no cap (e.g.
                             behind a load balancer, where every connection comes from the balancer) */
  size_t max_pending;     /* connections in their handshake at once [64] */
  double handshake_s;     /* from a connection's accept to its group complete [10] */
  double session_s;       /* from a group complete to the session's end; 0: no limit [0] */
  size_t sessions;        /* return after this many sessions ran; 0: until *stop */
  const volatile sig_atomic_t *stop; /* may be NULL; non-zero: refuse new clients, let running sessions finish */
} fsn_acceptor_opts;

/* A complete group, as handed to the session callback; or a client whose hello was read but who disagreed in the
 * handshake (FSN_E_MISMATCH: other ring parameters, channel count, version): then status is that error, chs is NULL
 * and n is 0, and the callback only logs it. Both count towards opts.sessions. Refused (busy, crowded), vanished and
 * silent connections are only counted in the stats. */
typedef struct fsn_acceptor_session {
  fsn_status status;   /* FSN_OK: a group to serve */
  const char *error;   /* status != FSN_OK: why */
  size_t index;        /* 1, 2, ... in order of completion */
  uint64_t session_id; /* the client's */
  char peer[64];       /* the client's address and port (of channel 0), "host:port" or "[v6]:port" */
  fsn_channel *const *chs;
  size_t n; /* == opts.channels */
} fsn_acceptor_session;

/* Runs on the session's own thread; the channels are closed after it returns. It must be thread-safe: up to
 * max_sessions calls run at once. */
typedef void (*fsn_acceptor_fn)(void *arg, const fsn_acceptor_session *s);

/* What the acceptor saw (returned by fsn_acceptor_run). */
typedef struct fsn_acceptor_stats {
  uint64_t accepted;      /* connections accepted */
  uint64_t sessions;      /* complete groups handed to the callback */
  uint64_t refused_busy;  /* refused: no session slot, too many pending handshakes, or stopping */
  uint64_t refused_crowd; /* refused: too many connections from one address */
  uint64_t failed;        /* connections whose handshake failed or whose group expired incomplete */
} fsn_acceptor_stats;

/* Accept on l until opts->sessions sessions ran or *opts->stop is set, then refuse new clients while the running
 * sessions finish, and return. Every channel is made with chan and shakes hands with p (the server role). stats may
 * be NULL. Errors: FSN_E_INVALID for bad options, FSN_E_IO if accepting fails for good. */
FSN_NODISCARD fsn_status fsn_acceptor_run(fsn_listener *l, const fsn_channel_params *p, const fsn_channel_opts *chan,
                                          const fsn_acceptor_opts *opts, fsn_acceptor_fn fn, void *arg,
                                          fsn_acceptor_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
