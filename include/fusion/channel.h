/* Two-party channels over TCP: handshake, length-framed messages with buffered writes, ring/bit packing, counters,
 * timeouts, optional link emulation. One channel per worker thread; a channel is not thread-safe. */
#ifndef FUSION_CHANNEL_H
#define FUSION_CHANNEL_H

#include <fusion/link.h>
#include <fusion/status.h>
#include <fusion/wire.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fsn_channel fsn_channel;
typedef struct fsn_listener fsn_listener;

typedef enum fsn_role { FSN_ROLE_SERVER = 0, FSN_ROLE_CLIENT = 1 } fsn_role;

/* What both parties must agree on; checked by the handshake. */
typedef struct fsn_channel_params {
  uint32_t ell, scale; /* ring width and fixed-point scale */
  uint64_t session_id; /* chosen by the client, echoed by the server */
} fsn_channel_params;

typedef struct fsn_channel_opts {
  int timeout_ms;        /* every read, write and connect; 0 = default 30 000 */
  size_t max_frame;      /* largest frame accepted from the peer; 0 = default 1 GiB */
  fsn_link_profile link; /* zero = no emulation */
} fsn_channel_opts;

/* Traffic counters. A round is one change of direction (a receive after a send, seen from this party). */
typedef struct fsn_counters {
  uint64_t bytes_sent, bytes_recv, msgs_sent, msgs_recv, rounds;
  /* Added by the network layer: bytes on the wire including the 24-byte frame headers. Payload counters above count
   * only what the protocol asked to send. All counters start at zero after the handshake. */
  uint64_t wire_bytes_sent, wire_bytes_recv;
} fsn_counters;

/* "host:port", "[v6addr]:port"; port 0 picks an ephemeral port. */
FSN_NODISCARD fsn_status fsn_listen(fsn_listener **out, const char *host_port);
uint16_t fsn_listener_port(const fsn_listener *l);
void fsn_listener_destroy(fsn_listener *l);
FSN_NODISCARD fsn_status fsn_accept(fsn_listener *l, fsn_channel **out, const fsn_channel_opts *opts);
FSN_NODISCARD fsn_status fsn_connect(fsn_channel **out, const char *host_port, const fsn_channel_opts *opts);
void fsn_channel_destroy(fsn_channel *ch);

/* Exchange magic, version, role and params; a mismatch is FSN_E_MISMATCH on both sides. A server that will not
 * serve this client (an acceptor's busy or per-address refusal, <fusion/acceptor.h>) answers with a refusal in
 * place of its hello: FSN_E_CLOSED, "the server refused the connection (...); try again later". */
FSN_NODISCARD fsn_status fsn_channel_handshake(fsn_channel *ch, fsn_role role, const fsn_channel_params *p);

/* Queue one frame of n bytes (sent on flush, on a full buffer, or before the next receive). */
FSN_NODISCARD fsn_status fsn_channel_send(fsn_channel *ch, const void *buf, size_t n);
/* Receive one frame, which must be exactly n bytes (else FSN_E_PROTOCOL). Flushes pending sends first. */
FSN_NODISCARD fsn_status fsn_channel_recv(fsn_channel *ch, void *buf, size_t n);
FSN_NODISCARD fsn_status fsn_channel_flush(fsn_channel *ch);

/* Ring vectors packed to ell bits per element on the wire (ceil(n * ell / 8) bytes of payload). */
FSN_NODISCARD fsn_status fsn_channel_send_ring(fsn_channel *ch, const uint64_t *v, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_channel_recv_ring(fsn_channel *ch, uint64_t *v, size_t n, unsigned ell);

void fsn_channel_counters(const fsn_channel *ch, fsn_counters *out);

/* ---- Additions of the network layer (net/). Existing declarations above keep their meaning. ---- */

/* Frame header on the wire: u32 tag ("FSN" + kind byte), u32 zero, u64 payload length, u64 send timestamp (ns),
 * all little-endian. Payload counters exclude it; wire counters include it. */
#define FSN_FRAME_HEADER_BYTES 24
#define FSN_PROTOCOL_VERSION   1

/* fsn_connect retries a refused connection every 50 ms until the timeout, so the two parties may start in either
 * order; fsn_accept waits at most the timeout. Frames above the max_frame the peer announced in the handshake are
 * refused by the sending side (FSN_E_INVALID, nothing sent); protocols split larger messages. Once a call fails with
 * anything but FSN_E_INVALID the stream is out of step and every later call on the channel fails with the same status,
 * naming the first error. */

/* Wrap an already connected stream socket (TCP or AF_UNIX); the channel takes ownership of fd (closed on destroy and
 * on failure). TCP_NODELAY is set where it applies. */
FSN_NODISCARD fsn_status fsn_channel_from_fd(fsn_channel **out, int fd, const fsn_channel_opts *opts);

/* After a successful handshake: the session id (the client's), this party's role, the peer's max_frame. */
uint64_t fsn_channel_session_id(const fsn_channel *ch);

/* Channel groups: several channels per two-party session, one per worker thread (fsn_channels_*; "session" names the
 * inference session of <fusion/session.h>). The listening side accepts n connections, the other side
 * makes n connections to host_port; channel i on one side is joined to channel i on the other (the handshake carries
 * the index and the count, and every channel of a session carries the same session id: the client's, drawn from
 * libsodium when p->session_id is 0). Either side may be the server role. On failure every channel opened so far is
 * destroyed and chs[0..n) are NULL. */
FSN_NODISCARD fsn_status fsn_channels_accept(fsn_listener *l, fsn_channel **chs, size_t n, fsn_role role,
                                             const fsn_channel_params *p, const fsn_channel_opts *opts);
FSN_NODISCARD fsn_status fsn_channels_connect(fsn_channel **chs, size_t n, const char *host_port, fsn_role role,
                                              const fsn_channel_params *p, const fsn_channel_opts *opts);
/* From now on no read or write of these channels waits past `seconds` from now (0: no deadline), besides each call's
 * own timeout: a peer that dribbles bytes cannot hold a session longer. A wait cut by the deadline fails with
 * FSN_E_TIMEOUT ("the session's deadline has passed"). */
void fsn_channels_set_deadline(fsn_channel *const *chs, size_t n, double seconds);
/* Destroy n channels (NULL entries skipped). */
void fsn_channels_close(fsn_channel **chs, size_t n);

/* End the session with a reason the peer reports: its next receive on this channel fails with FSN_E_CLOSED "the peer
 * ended the session: <why>" (at most 512 bytes of why are sent; the peer shows printable ASCII only). For a server
 * refusing a request; FSN_E_INVALID if the channel cannot send any more (no handshake, or a write failed). */
FSN_NODISCARD fsn_status fsn_channel_send_error(fsn_channel *ch, const char *why);

/* Bit vectors: bits[j] is 0 or 1 (only bit 0 of each byte is read); on the wire ceil(n / 8) bytes, bit j is bit
 * (j % 8) of byte j / 8, unused high bits of the last byte zero (the receiver rejects a frame where they are not). */
FSN_NODISCARD fsn_status fsn_channel_send_bits(fsn_channel *ch, const uint8_t *bits, size_t n);
FSN_NODISCARD fsn_status fsn_channel_recv_bits(fsn_channel *ch, uint8_t *bits, size_t n);

/* Phases: traffic is attributed to the current phase (none at first) as well as to the channel's total. A name is
 * at most 47 bytes; setting a name seen before resumes that phase; NULL or "" stops attributing. */
FSN_NODISCARD fsn_status fsn_channel_set_phase(fsn_channel *ch, const char *name);
size_t fsn_channel_phase_count(const fsn_channel *ch);
/* Name and counters of phase i < fsn_channel_phase_count(ch), in order of first use. */
const char *fsn_channel_phase_name(const fsn_channel *ch, size_t i);
void fsn_channel_phase_counters(const fsn_channel *ch, size_t i, fsn_counters *out);
/* Counters of the phase called name; FSN_E_INVALID if the channel never saw it. */
FSN_NODISCARD fsn_status fsn_channel_phase_find(const fsn_channel *ch, const char *name, fsn_counters *out);
/* Zero the total and every phase. */
void fsn_channel_reset_counters(fsn_channel *ch);
/* acc += x, field by field (e.g. to total the channels of a session). */
void fsn_counters_add(fsn_counters *acc, const fsn_counters *x);
/* {"bytes_sent":..,"bytes_recv":..,"msgs_sent":..,"msgs_recv":..,"rounds":..,"wire_bytes_sent":..,
 *  "wire_bytes_recv":..} into buf (NUL-terminated, truncated to cap); returns the length it needs, like snprintf. */
size_t fsn_counters_json(char *buf, size_t cap, const fsn_counters *c);
/* The channel's total plus "phases":[{"name":"conv1",...counters...},...]; same contract. */
size_t fsn_channel_counters_json(char *buf, size_t cap, const fsn_channel *ch);

#ifdef __cplusplus
}
#endif
#endif
