/* Wire format: frame headers, the handshake hello, and the packed forms of ring and bit vectors. */
#include "core/le.h"
#include "net/wire.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <fusion/ring.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the packed ring format is implemented for little-endian hosts"
#endif

void fsn_wire_header_encode(uint8_t out[FSN_FRAME_HEADER_BYTES], const fsn_wire_header *h) {
  fsn_le_put32(out, FSN_WIRE_TAG | (uint32_t)h->kind << 24);
  fsn_le_put32(out + 4, 0);
  fsn_le_put64(out + 8, h->length);
  fsn_le_put64(out + 16, h->stamp_ns);
}

fsn_status fsn_wire_header_decode(fsn_wire_header *h, const uint8_t in[FSN_FRAME_HEADER_BYTES]) {
  uint32_t tag = fsn_le_get32(in), reserved = fsn_le_get32(in + 4);
  if ((tag & 0xffffffu) != FSN_WIRE_TAG)
    return fsn_fail(FSN_E_PROTOCOL, "bad frame header: tag 0x%08x is not a fusion frame (stream out of step?)", tag);
  if ((tag >> 24) > FSN_WIRE_KIND_ERROR)
    return fsn_fail(FSN_E_PROTOCOL, "bad frame header: unknown frame kind %u", tag >> 24);
  if (reserved != 0) return fsn_fail(FSN_E_PROTOCOL, "bad frame header: reserved field 0x%08x is not zero", reserved);
  h->kind = (uint8_t)(tag >> 24);
  h->length = fsn_le_get64(in + 8);
  h->stamp_ns = fsn_le_get64(in + 16);
  return FSN_OK;
}

void fsn_wire_hello_encode(uint8_t out[FSN_WIRE_HELLO_SIZE], const fsn_wire_hello *h) {
  fsn_le_put32(out, h->magic);
  out[4] = (uint8_t)h->version;
  out[5] = (uint8_t)(h->version >> 8);
  out[6] = h->role;
  out[7] = h->verdict;
  fsn_le_put32(out + 8, h->ell);
  fsn_le_put32(out + 12, h->scale);
  fsn_le_put64(out + 16, h->session_id);
  fsn_le_put32(out + 24, h->chan_index);
  fsn_le_put32(out + 28, h->chan_count);
  fsn_le_put64(out + 32, h->max_frame);
  fsn_le_put64(out + 40, h->link_bps);
  fsn_le_put64(out + 48, h->link_rtt_ns);
  fsn_le_put64(out + 56, h->t_send_ns);
  fsn_le_put64(out + 64, h->t_recv_ns);
}

fsn_status fsn_wire_hello_decode(fsn_wire_hello *h, const uint8_t *in, size_t n) {
  memset(h, 0, sizeof *h);
  if (n < 6) return fsn_fail(FSN_E_PROTOCOL, "handshake: hello of %zu bytes is too short to name a version", n);
  h->magic = fsn_le_get32(in);
  h->version = (uint16_t)(in[4] | in[5] << 8);
  if (h->magic != FSN_WIRE_MAGIC)
    return fsn_fail(FSN_E_MISMATCH, "handshake: peer magic 0x%08x, expected 0x%08x (not a fusion peer)", h->magic,
                    FSN_WIRE_MAGIC);
  if (h->version != FSN_PROTOCOL_VERSION)
    return fsn_fail(FSN_E_MISMATCH, "handshake: peer speaks protocol version %u, this side version %u", h->version,
                    FSN_PROTOCOL_VERSION);
  if (n != FSN_WIRE_HELLO_SIZE)
    return fsn_fail(FSN_E_PROTOCOL, "handshake: hello of %zu bytes, version %u has %d", n, h->version,
                    FSN_WIRE_HELLO_SIZE);
  h->role = in[6];
  h->verdict = in[7];
  h->ell = fsn_le_get32(in + 8);
  h->scale = fsn_le_get32(in + 12);
  h->session_id = fsn_le_get64(in + 16);
  h->chan_index = fsn_le_get32(in + 24);
  h->chan_count = fsn_le_get32(in + 28);
  h->max_frame = fsn_le_get64(in + 32);
  h->link_bps = fsn_le_get64(in + 40);
  h->link_rtt_ns = fsn_le_get64(in + 48);
  h->t_send_ns = fsn_le_get64(in + 56);
  h->t_recv_ns = fsn_le_get64(in + 64);
  return FSN_OK;
}

const char *fsn_wire_verdict_name(unsigned verdict) {
  static const char *const names[FSN_VERDICT_COUNT] = {"accepted",
                                                       "magic",
                                                       "protocol version",
                                                       "role",
                                                       "ell",
                                                       "scale",
                                                       "session id",
                                                       "channel index/count",
                                                       "link",
                                                       "server busy: every session slot is taken",
                                                       "too many connections from this address"};
  return verdict < FSN_VERDICT_COUNT ? names[verdict] : "unknown reason";
}

static const char *role_name(unsigned r) {
  return r == FSN_ROLE_SERVER ? "server" : r == FSN_ROLE_CLIENT ? "client" : "?";
}

fsn_wire_verdict fsn_wire_hello_check(const fsn_wire_hello *mine, const fsn_wire_hello *peer, char *why, size_t cap) {
  const fsn_wire_hello *client = mine->role == FSN_ROLE_CLIENT ? mine : peer;
  const fsn_wire_hello *server = mine->role == FSN_ROLE_CLIENT ? peer : mine;
  if (peer->magic != FSN_WIRE_MAGIC || mine->magic != FSN_WIRE_MAGIC) {
    snprintf(why, cap, "magic 0x%08x (this side) vs 0x%08x (peer)", mine->magic, peer->magic);
    return FSN_VERDICT_MAGIC;
  }
  if (peer->version != mine->version) {
    snprintf(why, cap, "protocol version %u (this side) vs %u (peer)", mine->version, peer->version);
    return FSN_VERDICT_VERSION;
  }
  if (peer->role > 1 || peer->role == mine->role) {
    snprintf(why, cap, "both parties claim the %s role (peer role %u)", role_name(peer->role), peer->role);
    return FSN_VERDICT_ROLE;
  }
  if (peer->ell != mine->ell) {
    snprintf(why, cap, "ell %u (this side) vs %u (peer)", mine->ell, peer->ell);
    return FSN_VERDICT_ELL;
  }
  if (peer->scale != mine->scale) {
    snprintf(why, cap, "scale %u (this side) vs %u (peer)", mine->scale, peer->scale);
    return FSN_VERDICT_SCALE;
  }
  if (client->session_id == 0 || (server->session_id != 0 && server->session_id != client->session_id)) {
    snprintf(why, cap, "session id 0x%016llx (client) vs 0x%016llx (server)", (unsigned long long)client->session_id,
             (unsigned long long)server->session_id);
    return FSN_VERDICT_SESSION;
  }
  if (peer->chan_index != mine->chan_index || peer->chan_count != mine->chan_count) {
    snprintf(why, cap, "channel %u of %u (this side) vs %u of %u (peer)", mine->chan_index, mine->chan_count,
             peer->chan_index, peer->chan_count);
    return FSN_VERDICT_CHANNEL;
  }
  if (peer->link_bps != mine->link_bps || peer->link_rtt_ns != mine->link_rtt_ns) {
    snprintf(why, cap, "link emulation %llu bit/s, %llu ns RTT (this side) vs %llu bit/s, %llu ns RTT (peer)",
             (unsigned long long)mine->link_bps, (unsigned long long)mine->link_rtt_ns,
             (unsigned long long)peer->link_bps, (unsigned long long)peer->link_rtt_ns);
    return FSN_VERDICT_LINK;
  }
  if (peer->max_frame == 0) {
    snprintf(why, cap, "peer announces a zero frame limit");
    return FSN_VERDICT_CHANNEL;
  }
  snprintf(why, cap, "accepted");
  return FSN_VERDICT_OK;
}

void fsn_wire_hello_make(fsn_wire_hello *h, fsn_role role, const fsn_channel_params *p, uint32_t chan_index,
                         uint32_t chan_count, const fsn_channel_opts *opts) {
  memset(h, 0, sizeof *h);
  h->magic = FSN_WIRE_MAGIC;
  h->version = FSN_PROTOCOL_VERSION;
  h->role = (uint8_t)role;
  h->ell = p->ell;
  h->scale = p->scale;
  h->session_id = p->session_id;
  h->chan_index = chan_index;
  h->chan_count = chan_count;
  h->max_frame = opts->max_frame;
  h->link_bps = (uint64_t)llround(opts->link.bandwidth_bps);
  h->link_rtt_ns = (uint64_t)llround(opts->link.rtt_s * 1e9);
}

/* ---- ring and bit vectors ---- */

size_t fsn_wire_packed_bytes(size_t n, unsigned ell) {
  /* n * ell / 8 without overflowing n * ell: whole bytes per 8 elements, then the rest. */
  return n / 8 * ell + ((n % 8) * ell + 7) / 8;
}

void fsn_wire_pack(uint8_t *out, const uint64_t *v, size_t n, unsigned ell) {
  if (ell >= 64) {
    memcpy(out, v, n * 8);
    return;
  }
  const uint64_t mask = fsn_ring_mask(ell);
  uint64_t acc = 0;
  unsigned fill = 0; /* bits of acc in use, always < 64 between elements */
  for (size_t i = 0; i < n; i++) {
    uint64_t x = v[i] & mask;
    acc |= x << fill;
    fill += ell;
    if (fill >= 64) {
      memcpy(out, &acc, 8);
      out += 8;
      fill -= 64;
      acc = fill ? x >> (ell - fill) : 0;
    }
  }
  memcpy(out, &acc, (fill + 7) / 8);
}

fsn_status fsn_wire_unpack(uint64_t *v, const uint8_t *in, size_t n, unsigned ell) {
  if (ell >= 64) {
    memcpy(v, in, n * 8);
    return FSN_OK;
  }
  const uint64_t mask = fsn_ring_mask(ell);
  size_t left = fsn_wire_packed_bytes(n, ell); /* input bytes not yet loaded */
  uint64_t acc = 0;
  unsigned avail = 0; /* bits of acc not yet consumed */
  for (size_t i = 0; i < n; i++) {
    if (avail >= ell) {
      v[i] = acc & mask;
      acc >>= ell;
      avail -= ell;
      continue;
    }
    uint64_t w = 0;
    size_t take = left < 8 ? left : 8;
    memcpy(&w, in, take);
    in += take;
    left -= take;
    unsigned need = ell - avail; /* 1 .. ell */
    v[i] = (acc | w << avail) & mask;
    acc = w >> need;
    avail = (unsigned)take * 8 - need;
  }
  if (acc != 0 || left != 0)
    return fsn_fail(FSN_E_PROTOCOL, "packed ring vector (n=%zu, ell=%u): padding bits of the last byte are not zero", n,
                    ell);
  return FSN_OK;
}
