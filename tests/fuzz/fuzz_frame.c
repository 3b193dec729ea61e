/* libFuzzer target for everything a peer's bytes reach: the frame header and hello decoders directly, then a real
 * channel reading the input as its peer's stream (handshake, data frames, ring and bit vectors).
 * Input: [mode][ell][8 op bytes][stream]. mode bit 0: this harness plays a correct handshake first, so the stream
 * starts at the data frames; otherwise the stream must carry the peer's hello and verdict itself. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_frame(int fd, uint8_t kind, const void *p, size_t n) {
  uint8_t h[FSN_FRAME_HEADER_BYTES];
  fsn_wire_header_encode(h, &(fsn_wire_header){.kind = kind, .length = n});
  if (write(fd, h, sizeof h) != (ssize_t)sizeof h || write(fd, p, n) != (ssize_t)n) abort();
}

static void play_peer_handshake(int fd) {
  fsn_wire_hello h;
  fsn_channel_params p = {.ell = 37, .scale = 12, .session_id = 9};
  fsn_wire_hello_make(&h, FSN_ROLE_CLIENT, &p, 0, 1, &(fsn_channel_opts){.max_frame = 1 << 16});
  uint8_t b[FSN_WIRE_HELLO_SIZE];
  fsn_wire_hello_encode(b, &h);
  write_frame(fd, FSN_WIRE_KIND_HELLO, b, sizeof b);
  write_frame(fd, FSN_WIRE_KIND_VERDICT, b, sizeof b); /* verdict 0 = accepted, session id echoed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fsn_wire_header hdr;
  fsn_wire_hello hello;
  fsn_status parsed = size >= FSN_FRAME_HEADER_BYTES ? fsn_wire_header_decode(&hdr, data) : FSN_OK;
  parsed = fsn_wire_hello_decode(&hello, data, size);
  (void)parsed; /* any verdict is fine; crashing, hanging or leaking is not */
  if (size < 10 || size > 65536) return 0;

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  if (data[0] & 1) play_peer_handshake(sv[1]);
  if (write(sv[1], data + 10, size - 10) != (ssize_t)(size - 10)) abort();
  shutdown(sv[1], SHUT_WR); /* the stream ends here: every read past it must fail, never block */

  fsn_channel *ch;
  fsn_channel_opts opts = {.timeout_ms = 2000, .max_frame = 1 << 16};
  if (fsn_channel_from_fd(&ch, sv[0], &opts) != FSN_OK) abort();
  fsn_channel_params p = {.ell = 37, .scale = 12};
  if (fsn_channel_handshake(ch, FSN_ROLE_SERVER, &p) == FSN_OK) {
    static const size_t ns[8] = {0, 1, 3, 8, 24, 100, 1000, 5000};
    static uint64_t buf[5000];
    unsigned ell = data[1] % 64 + 1;
    for (int i = 0; i < 8; i++) {
      size_t n = ns[(data[2 + i] >> 2) % 8];
      fsn_status st = FSN_OK;
      switch (data[2 + i] & 3) {
      case 0: st = fsn_channel_recv(ch, buf, n); break;
      case 1: st = fsn_channel_recv_ring(ch, buf, n, ell); break;
      case 2: st = fsn_channel_recv_bits(ch, (uint8_t *)buf, n); break;
      case 3: st = fsn_channel_send(ch, buf, n); break;
      }
      (void)st;
    }
  }
  fsn_channel_destroy(ch);
  close(sv[1]);
  return 0;
}
