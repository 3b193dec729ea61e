/* libFuzzer target for the model card a client reads from a server: the architecture decoder on the input directly,
 * then the input as a whole card through a channel (its length frame, then its bytes) into fsn_card_recv, which
 * parses and validates it and rebuilds the architecture within the client's budgets. Seeds: tests/fuzz/corpus_card
 * (cards of the shipped models, by tests/fuzz/make_seeds.py). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fusion/session.h>

#include "net/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_frame(int fd, uint8_t kind, const void *p, size_t n) {
  uint8_t h[FSN_FRAME_HEADER_BYTES];
  fsn_wire_header_encode(h, &(fsn_wire_header){.kind = kind, .length = n});
  if (write(fd, h, sizeof h) != (ssize_t)sizeof h || write(fd, p, n) != (ssize_t)n) abort();
}

/* The server's side of the handshake, written ahead: its hello, then its verdict echoing the client's id 9. */
static void play_server_handshake(int fd) {
  fsn_wire_hello h;
  fsn_channel_params p = {.ell = 37, .scale = 12, .session_id = 9};
  fsn_wire_hello_make(&h, FSN_ROLE_SERVER, &p, 0, 1, &(fsn_channel_opts){.max_frame = 1 << 20});
  uint8_t b[FSN_WIRE_HELLO_SIZE];
  fsn_wire_hello_encode(b, &h);
  write_frame(fd, FSN_WIRE_KIND_HELLO, b, sizeof b);
  write_frame(fd, FSN_WIRE_KIND_VERDICT, b, sizeof b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fsn_model *m;
  if (fsn_card_arch_decode(&m, data, size) == FSN_OK) fsn_model_destroy(m);
  if (size > 65536) return 0;

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  int big = 1 << 20;
  (void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  play_server_handshake(sv[1]);
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)size >> (8 * i));
  write_frame(sv[1], FSN_WIRE_KIND_DATA, len, sizeof len);
  write_frame(sv[1], FSN_WIRE_KIND_DATA, data, size);
  shutdown(sv[1], SHUT_WR);

  fsn_channel *ch;
  if (fsn_channel_from_fd(&ch, sv[0], &(fsn_channel_opts){.timeout_ms = 2000, .max_frame = 1 << 20}) != FSN_OK) abort();
  if (fsn_channel_handshake(ch, FSN_ROLE_CLIENT, &(fsn_channel_params){.ell = 37, .scale = 12, .session_id = 9}) !=
      FSN_OK)
    abort(); /* the handshake above is well formed: failing it would be a bug */
  fsn_card card;
  if (fsn_card_recv(ch, &card) == FSN_OK) fsn_card_free(&card);
  fsn_channel_destroy(ch);
  close(sv[1]);
  return 0;
}
