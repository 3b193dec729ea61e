/* Two-party tests over real loopback sockets: the server party on a new thread, the client on the caller's. */
#ifndef FSN_TESTS_NET_H
#define FSN_TESTS_NET_H

#include <fusion/channel.h>
#include <stddef.h>

typedef void (*fsn_test_party_fn)(fsn_channel *ch, void *arg);

/* Run `server` on a new thread and `client` on the caller, joined over loopback TCP (ephemeral port, handshake with
 * ell = 37, scale = 12), then join the thread. Pending sends are flushed after each party returns; the channels are
 * destroyed after both have returned. Fails the Check test on any setup error. Party functions may use ck_assert
 * on either thread (Check's fork mode, the default, ends the test process on the first failure). */
void fsn_test_two_party(fsn_test_party_fn server, void *server_arg, fsn_test_party_fn client, void *client_arg);

/* Session parameters for fsn_test_two_party_ex; zero fields take the defaults in brackets. */
typedef struct fsn_test_net_opts {
  size_t channels;            /* channels per party, one per worker thread [1] */
  fsn_channel_params params;  /* [ell = 37, scale = 12, session_id drawn by the client]; set ell to choose */
  fsn_channel_opts chan;      /* timeout, max_frame, link emulation [library defaults, no emulation] */
  const char *listen_address; /* ["127.0.0.1:0"]; e.g. "[::1]:0" for IPv6 */
} fsn_test_net_opts;

/* A party of a multi-channel session: chs[0..n) are joined in order to the peer's chs[0..n). The party may hand
 * them to its own worker threads (one channel per thread) but must join those threads before returning. */
typedef void (*fsn_test_parties_fn)(fsn_channel **chs, size_t n, void *arg);

/* fsn_test_two_party with `opts->channels` channels per party and chosen session parameters (opts may be NULL). */
void fsn_test_two_party_ex(const fsn_test_net_opts *opts, fsn_test_parties_fn server, void *server_arg,
                           fsn_test_parties_fn client, void *client_arg);

/* Two connected channels over loopback, NOT shaken hands (for tests of the handshake itself). */
void fsn_test_channel_pair(fsn_channel **a, fsn_channel **b, const fsn_channel_opts *opts);

#endif
