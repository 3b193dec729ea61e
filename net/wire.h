/* Internal to net/ and its tests: the wire format of frame headers and of the handshake, kept apart from the socket
 * code so the fuzz target and the tests can drive the parsers directly. Not installed. */
#ifndef FSN_NET_WIRE_H
#define FSN_NET_WIRE_H

#include <fusion/channel.h>

#include <stdint.h>

enum {
  FSN_WIRE_KIND_DATA = 0,    /* a protocol message */
  FSN_WIRE_KIND_HELLO = 1,   /* handshake step 1: both parties announce themselves */
  FSN_WIRE_KIND_VERDICT = 2, /* handshake step 2: each says whether it accepts the other */
  FSN_WIRE_KIND_ERROR = 3,   /* the sender ends the session: a short UTF-8 reason (at most FSN_WIRE_ERROR_MAX bytes) */
};
#define FSN_WIRE_ERROR_MAX  512
#define FSN_WIRE_TAG        0x004e5346u /* "FSN" then the kind byte */
#define FSN_WIRE_MAGIC      0x4b48534eu /* "NSHK": the first field of a hello */
#define FSN_WIRE_HELLO_SIZE 72
#define FSN_WIRE_HELLO_MAX  4096 /* a hello from a newer version may be longer; never more than this */

typedef struct fsn_wire_header {
  uint8_t kind;
  uint64_t length, stamp_ns;
} fsn_wire_header;

/* Why a party rejects the other's hello (0 = accepted). */
typedef enum fsn_wire_verdict {
  FSN_VERDICT_OK = 0,
  FSN_VERDICT_MAGIC,
  FSN_VERDICT_VERSION,
  FSN_VERDICT_ROLE,
  FSN_VERDICT_ELL,
  FSN_VERDICT_SCALE,
  FSN_VERDICT_SESSION,
  FSN_VERDICT_CHANNEL,
  FSN_VERDICT_LINK,
  FSN_VERDICT_BUSY,    /* a server's hello: every session slot is taken (the connection is closed) */
  FSN_VERDICT_CROWDED, /* a server's hello: too many connections from this client's address */
  FSN_VERDICT_COUNT,
} fsn_wire_verdict;

typedef struct fsn_wire_hello {
  uint32_t magic;
  uint16_t version;
  uint8_t role, verdict;
  uint32_t ell, scale;
  uint64_t session_id;
  uint32_t chan_index, chan_count;
  uint64_t max_frame, link_bps, link_rtt_ns;
  uint64_t t_send_ns; /* hello: when it was sent (sender's CLOCK_MONOTONIC) */
  uint64_t t_recv_ns; /* verdict: when the peer's hello arrived (sender's clock) */
} fsn_wire_hello;

void fsn_wire_header_encode(uint8_t out[FSN_FRAME_HEADER_BYTES], const fsn_wire_header *h);
/* FSN_E_PROTOCOL for a wrong tag, an unknown kind or non-zero reserved bytes. Lengths are the caller's to check. */
FSN_NODISCARD fsn_status fsn_wire_header_decode(fsn_wire_header *h, const uint8_t in[FSN_FRAME_HEADER_BYTES]);

void fsn_wire_hello_encode(uint8_t out[FSN_WIRE_HELLO_SIZE], const fsn_wire_hello *h);
/* Decodes n bytes. Magic and version are read first, so a peer of another version is reported as such
 * (FSN_E_MISMATCH); a wrong size for this version is FSN_E_PROTOCOL. */
FSN_NODISCARD fsn_status fsn_wire_hello_decode(fsn_wire_hello *h, const uint8_t *in, size_t n);

/* The verdict of `mine` on `peer` (symmetric: both parties reach the same one), with a one-line reason. */
fsn_wire_verdict fsn_wire_hello_check(const fsn_wire_hello *mine, const fsn_wire_hello *peer, char *why, size_t cap);
const char *fsn_wire_verdict_name(unsigned verdict);

/* The hello a party sends for these parameters (t_send_ns left for the handshake to fill). */
void fsn_wire_hello_make(fsn_wire_hello *h, fsn_role role, const fsn_channel_params *p, uint32_t chan_index,
                         uint32_t chan_count, const fsn_channel_opts *opts);

/* The handshake with an explicit hello, so tests can send a wrong magic or version. */
FSN_NODISCARD fsn_status fsn_channel_handshake_hello(fsn_channel *ch, const fsn_wire_hello *mine);

/* The server side of the acceptor's handshake: read the peer's hello first (so the acceptor can place the
 * connection by its session id and channel index), let admit() complete `mine` (session id, channel index and
 * count) or refuse (FSN_VERDICT_BUSY / FSN_VERDICT_CROWDED: sent in place of a hello, then FSN_E_CLOSED here; any
 * other non-zero verdict is sent as the verdict), then finish as fsn_channel_handshake_hello does. */
typedef fsn_wire_verdict (*fsn_wire_admit_fn)(void *arg, const fsn_wire_hello *peer, fsn_wire_hello *mine);
FSN_NODISCARD fsn_status fsn_channel_handshake_respond(fsn_channel *ch, const fsn_wire_hello *mine,
                                                       fsn_wire_admit_fn admit, void *arg);

/* Make n handshaken channels one group: with link emulation on, they share one emulated link. */
FSN_NODISCARD fsn_status fsn_channels_join(fsn_channel **chs, size_t n);

/* Fill in the defaults of zero fields (timeout, max_frame), as every channel does: the hello announces them. */
void fsn_channel_opts_resolve(fsn_channel_opts *o);

/* The listening socket, for the acceptor. */
int fsn_listener_fd(const fsn_listener *l);

/* The socket under a channel, for tests that play a misbehaving peer. */
int fsn_channel_fd(const fsn_channel *ch);

/* Link emulation helpers shared by channel.c and netbench. */
uint64_t fsn_net_now_ns(void);
void fsn_net_sleep_until_ns(uint64_t deadline_ns);

#endif
