/* libFuzzer target for every message a server reads from a client: the input is a client's whole byte stream. The
 * server side reads the client's hello first and admits it as the acceptor does (fsn_channel_handshake_respond; a
 * session id of 1 is refused busy, so that path runs too), then serves one batch of a small model: the batch request
 * (size, truncation mode, input bound) and whatever the client sends during the secure run (OT messages, masked
 * shares) and the verdict byte. Seeds: tests/fuzz/corpus_server (a well-formed hello, verdict and batch request, by
 * tests/fuzz/make_seeds.py). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fusion/session.h>

#include "net/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fc 4 -> 3, ReLU, fc 3 -> 2: every kind of secure step, small enough to run per input. */
static const fsn_model *small_model(void) {
  static fsn_model *m;
  if (m) return m;
  static const float w1[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -1, 2, -3}, w2[6] = {1, 2, 3, -1, -2, -3};
  size_t t;
  if (fsn_model_create(&m, 4, 1, 1) != FSN_OK ||
      fsn_model_add(m, &(fsn_layer_desc){.kind = FSN_LAYER_FC, .in = 0, .out_c = 3, .weight = w1}, &t) != FSN_OK ||
      fsn_model_add(m, &(fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = t}, &t) != FSN_OK ||
      fsn_model_add(m, &(fsn_layer_desc){.kind = FSN_LAYER_FC, .in = t, .out_c = 2, .weight = w2}, &t) != FSN_OK ||
      fsn_model_quantize(m, 37, 12) != FSN_OK)
    abort();
  return m;
}

static fsn_wire_verdict admit(void *arg, const fsn_wire_hello *peer, fsn_wire_hello *mine) {
  (void)arg;
  mine->session_id = peer->session_id;
  mine->chan_index = peer->chan_index;
  return peer->session_id == 1 ? FSN_VERDICT_BUSY : FSN_VERDICT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  const fsn_model *m = small_model();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  int big = 1 << 22;
  (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big); /* the server's replies are never read */
  (void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (size && write(sv[1], data, size) != (ssize_t)size) abort();
  shutdown(sv[1], SHUT_WR); /* the stream ends here: every read past it must fail, never block */

  fsn_channel *ch;
  if (fsn_channel_from_fd(&ch, sv[0], &(fsn_channel_opts){.timeout_ms = 2000, .max_frame = 1 << 20}) != FSN_OK) abort();
  fsn_wire_hello mine;
  fsn_wire_hello_make(&mine, FSN_ROLE_SERVER, &(fsn_channel_params){.ell = 37, .scale = 12}, 0, 1,
                      &(fsn_channel_opts){.max_frame = 1 << 20});
  if (fsn_channel_handshake_respond(ch, &mine, admit, NULL) == FSN_OK) {
    fsn_cost cost;
    fsn_verdict verdict;
    size_t batch;
    fsn_channel *chs[1] = {ch};
    fsn_status st = fsn_session_serve_batch_reveal(chs, 1, m, 4, FSN_REVEAL_LABEL, NULL, &cost, &verdict, &batch);
    if (st != FSN_OK && fsn_channel_send_error(ch, fsn_last_error()) != FSN_OK) {
      /* the error frame is best effort, as in the server */
    }
  }
  fsn_channel_destroy(ch);
  close(sv[1]);
  return 0;
}
