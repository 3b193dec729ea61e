/* Two-party channels over TCP: handshake, length-framed messages with buffered writes, ring/bit packing, counters,
 * timeouts, optional link emulation. One channel per worker thread; a channel is not thread-safe. */
#ifndef FUSION_CHANNEL_H
#define FUSION_CHANNEL_H

#include <fusion/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fsn_channel fsn_channel;
typedef struct fsn_listener fsn_listener;

typedef enum fsn_role { FSN_ROLE_SERVER = 0, FSN_ROLE_CLIENT = 1 } fsn_role;

/* What both parties must agree on; checked by the handshake. */
typedef struct fsn_session_params {
  uint32_t ell, scale; /* ring width and fixed-point scale */
  uint64_t session_id; /* chosen by the client, echoed by the server */
} fsn_session_params;

/* Link emulation: bandwidth in bit/s and round-trip time in seconds; all zero = off. */
typedef struct fsn_link_profile {
  double bandwidth_bps, rtt_s;
} fsn_link_profile;

typedef struct fsn_channel_opts {
  int timeout_ms;        /* every read, write and connect; 0 = default 30 000 */
  size_t max_frame;      /* largest frame accepted from the peer; 0 = default 1 GiB */
  fsn_link_profile link; /* zero = no emulation */
} fsn_channel_opts;

/* Traffic counters. A round is one change of direction (a receive after a send, seen from this party). */
typedef struct fsn_counters {
  uint64_t bytes_sent, bytes_recv, msgs_sent, msgs_recv, rounds;
} fsn_counters;

/* "host:port", "[v6addr]:port"; port 0 picks an ephemeral port. */
FSN_NODISCARD fsn_status fsn_listen(fsn_listener **out, const char *host_port);
uint16_t fsn_listener_port(const fsn_listener *l);
void fsn_listener_destroy(fsn_listener *l);
FSN_NODISCARD fsn_status fsn_accept(fsn_listener *l, fsn_channel **out, const fsn_channel_opts *opts);
FSN_NODISCARD fsn_status fsn_connect(fsn_channel **out, const char *host_port, const fsn_channel_opts *opts);
void fsn_channel_destroy(fsn_channel *ch);

/* Exchange magic, version, role and params; a mismatch is FSN_E_MISMATCH on both sides. */
FSN_NODISCARD fsn_status fsn_channel_handshake(fsn_channel *ch, fsn_role role, const fsn_session_params *p);

/* Queue one frame of n bytes (sent on flush, on a full buffer, or before the next receive). */
FSN_NODISCARD fsn_status fsn_channel_send(fsn_channel *ch, const void *buf, size_t n);
/* Receive one frame, which must be exactly n bytes (else FSN_E_PROTOCOL). Flushes pending sends first. */
FSN_NODISCARD fsn_status fsn_channel_recv(fsn_channel *ch, void *buf, size_t n);
FSN_NODISCARD fsn_status fsn_channel_flush(fsn_channel *ch);

/* Ring vectors packed to ell bits per element on the wire (ceil(n * ell / 8) bytes of payload). */
FSN_NODISCARD fsn_status fsn_channel_send_ring(fsn_channel *ch, const uint64_t *v, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_channel_recv_ring(fsn_channel *ch, uint64_t *v, size_t n, unsigned ell);

void fsn_channel_counters(const fsn_channel *ch, fsn_counters *out);

#ifdef __cplusplus
}
#endif
#endif
