/* Secure conv2d / fully connected layers by vector-COT (include/fusion/linear.h, docs/PROTOCOLS.md). */
#include <fusion/bits.h>
#include <fusion/linear.h>
#include <fusion/prg.h>
#include <fusion/ring.h>
#include <sodium.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
  MAX_ROTS = 1 << 17,      /* random OTs per chunk */
  MAX_TOUCHES = 1 << 20,   /* weights met by one chunk's elements */
  GROUP_TOUCHES = 1 << 12, /* weights met by one group (see struct chunk) */
};

/* One weight an input element meets: the output it feeds (within a batch item) and the weight's index. */
typedef struct touch {
  uint32_t dest, widx;
} touch;

typedef struct conv_job {
  const fsn_conv2d_shape *s;
  size_t oh, ow, in_size, out_size; /* per batch item */
  const uint64_t *x, *w;
  uint64_t **acc; /* per thread: N x out_size cross-term accumulators */
  size_t total;   /* input elements over the batch */
  unsigned bits;  /* low bits of the client's share that get an OT each (ell, or fewer for a bounded input) */
} conv_job;

/* The weights input element (c, h, w) of one batch item meets, in a fixed order both parties derive from the shape. */
static size_t touches_of(const conv_job *j, size_t c, size_t h, size_t w, touch *out) {
  const fsn_conv2d_shape *s = j->s;
  size_t m = 0;
  for (size_t kh = 0; kh < s->k_h; kh++) {
    size_t top = h + s->pad_h; /* oh * stride + kh = h + pad */
    if (top < kh || (top - kh) % s->stride_h || (top - kh) / s->stride_h >= j->oh) continue;
    size_t oh = (top - kh) / s->stride_h;
    for (size_t kw = 0; kw < s->k_w; kw++) {
      size_t left = w + s->pad_w;
      if (left < kw || (left - kw) % s->stride_w || (left - kw) / s->stride_w >= j->ow) continue;
      size_t ow = (left - kw) / s->stride_w;
      for (size_t o = 0; o < s->out_c; o++)
        out[m++] = (touch){.dest = (uint32_t)((o * j->oh + oh) * j->ow + ow),
                           .widx = (uint32_t)(((o * s->in_c + c) * s->k_h + kh) * s->k_w + kw)};
    }
  }
  return m;
}

/* Buffers of one chunk, reused across chunks of a thread. A chunk (one batch of random OTs) is worked through in
 * groups of whole elements with about GROUP_TOUCHES touches, each group through every bit level before the next,
 * so the per-touch arrays stay in cache; touch k of a group is element e's (k - first[e])-th. */
typedef struct chunk {
  size_t K, M;                     /* elements, touches */
  touch *t;                        /* M touches */
  size_t *first;                   /* K + 1 offsets into t */
  uint8_t *k0, *k1;                /* ROT keys, 16 bytes each, index i * K + e for bit i of element e */
  uint8_t *choice;                 /* packed choice bits (client) */
  uint8_t *blocks;                 /* PRG input/output blocks of one group at one bit level */
  uint64_t *g0, *g1, *u, *w, *sum; /* per touch of a group: expansions, corrections, its weight, its running sum */
  size_t key_bytes, choice_bytes, block_bytes, word_bytes; /* allocated sizes, for wiping */
} chunk;

/* Keys, choice bits, their expansions, weights and partial shares are secrets: wiped before they are freed. */
static void chunk_free(chunk *c) {
  uint8_t *secrets[] = {c->k0, c->k1, c->choice, c->blocks};
  const size_t sizes[] = {c->key_bytes, c->key_bytes, c->choice_bytes, c->block_bytes};
  for (int i = 0; i < 4; i++)
    if (secrets[i]) sodium_memzero(secrets[i], sizes[i]);
  uint64_t *words[] = {c->g0, c->g1, c->w, c->sum};
  for (int i = 0; i < 4; i++)
    if (words[i]) sodium_memzero(words[i], c->word_bytes);
  free(c->t), free(c->first), free(c->k0), free(c->k1), free(c->choice), free(c->blocks);
  free(c->g0), free(c->g1), free(c->u), free(c->w), free(c->sum);
}

/* K elements and M touches per chunk, G touches per group at most. */
static fsn_status chunk_alloc(chunk *c, size_t K, size_t M, size_t G, unsigned bits) {
  const size_t words = G + 1, block_bytes = 8 * G + 16 * (G + 1); /* each element rounds up to whole blocks */
  *c = (chunk){.key_bytes = K * bits * 16,
               .choice_bytes = (K * bits + 7) / 8 + 1,
               .block_bytes = block_bytes,
               .word_bytes = words * 8};
  c->t = malloc(M * sizeof *c->t + 1);
  c->first = malloc((K + 1) * sizeof *c->first);
  c->k0 = malloc(K * bits * 16), c->k1 = malloc(K * bits * 16);
  c->choice = malloc((K * bits + 7) / 8 + 1);
  c->blocks = malloc(block_bytes);
  c->g0 = malloc(words * 8), c->g1 = malloc(words * 8), c->u = malloc(words * 8), c->w = malloc(words * 8);
  c->sum = malloc(words * 8);
  if (!c->t || !c->first || !c->k0 || !c->k1 || !c->choice || !c->blocks || !c->g0 || !c->g1 || !c->u || !c->w ||
      !c->sum) {
    chunk_free(c);
    return fsn_fail(FSN_E_NOMEM, "linear layer chunk of %zu elements, %zu weights", K, M);
  }
  return FSN_OK;
}

/* G(k) at one bit level of width w for elements [e0, e1): element e's touches get g[first[e] - first[e0] ..] from
 * the fixed-key CCR hash of k XOR (counter in the high half), read in lanes of 16, 32 or 64 bits (the narrowest that
 * holds w bits: at most a quarter of the AES work of 64-bit lanes for the many narrow levels). */
static void expand(const chunk *c, const uint8_t *keys, size_t e0, size_t e1, unsigned w, uint64_t *g) {
  const size_t lane = w <= 16 ? 2 : w <= 32 ? 4 : 8;
  size_t nb = 0;
  for (size_t e = e0; e < e1; e++) {
    const size_t blocks = ((c->first[e + 1] - c->first[e]) * lane + 15) / 16;
    for (size_t b = 0; b < blocks; b++, nb++) {
      uint64_t blk[2];
      memcpy(blk, keys + 16 * e, 16);
      blk[1] ^= (uint64_t)b;
      memcpy(c->blocks + 16 * nb, blk, 16);
    }
  }
  fsn_ccrh(c->blocks, c->blocks, nb);
  const uint8_t *src = c->blocks;
  for (size_t e = e0; e < e1; e++) {
    const size_t m = c->first[e + 1] - c->first[e];
    uint64_t *dst = g + (c->first[e] - c->first[e0]);
    if (lane == 2)
      for (size_t k = 0; k < m; k++) dst[k] = (uint64_t)src[2 * k] | (uint64_t)src[2 * k + 1] << 8;
    else if (lane == 4)
      for (size_t k = 0; k < m; k++) {
        uint32_t v;
        memcpy(&v, src + 4 * k, 4);
        dst[k] = v;
      }
    else
      memcpy(dst, src, 8 * m);
    src += (m * lane + 15) / 16 * 16;
  }
}

/* Elements [e0, e1) of the chunk (input elements begin + e) through every bit level: the server keeps
 * r0 = G(k0) and sends u = G(k1) - r0 - w per touch and level; the receiver with bit 1 gets G(k1) - u = r0 + w. */
static fsn_status run_group(fsn_2pc *p, size_t thread, const conv_job *j, chunk *c, size_t begin, size_t e0,
                            size_t e1) {
  const unsigned ell = fsn_2pc_ell(p);
  const bool server = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  fsn_channel *ch = fsn_2pc_channel(p, thread);
  const size_t K = c->K, base = c->first[e0], M = c->first[e1] - base;
  const touch *t = c->t + base;
  fsn_status st;
  if (server)
    for (size_t k = 0; k < M; k++) c->w[k] = j->w[t[k].widx];
  memset(c->sum, 0, M * sizeof *c->sum);
  for (unsigned i = 0; i < j->bits; i++) {
    const unsigned width = ell - i;
    const uint64_t mask = fsn_ring_mask(width);
    expand(c, c->k0 + 16 * (size_t)i * K, e0, e1, width, c->g0);
    if (server) {
      expand(c, c->k1 + 16 * (size_t)i * K, e0, e1, width, c->g1);
      for (size_t k = 0; k < M; k++) {
        const uint64_t r0 = c->g0[k] & mask;
        c->u[k] = (c->g1[k] - r0 - c->w[k]) & mask;
        c->sum[k] -= r0 << i;
      }
      if ((st = fsn_channel_send_ring(ch, c->u, M, width)) != FSN_OK) return st;
    } else {
      if ((st = fsn_channel_recv_ring(ch, c->u, M, width)) != FSN_OK) return st;
      for (size_t e = e0; e < e1; e++) {
        const uint64_t b = 0 - (j->x[begin + e] >> i & 1);
        for (size_t k = c->first[e] - base; k < c->first[e + 1] - base; k++)
          c->sum[k] += ((c->g0[k] - (b & c->u[k])) & mask) << i;
      }
    }
  }
  for (size_t e = e0; e < e1; e++) {
    uint64_t *out = j->acc[thread] + (begin + e) / j->in_size * j->out_size;
    for (size_t k = c->first[e] - base; k < c->first[e + 1] - base; k++) out[t[k].dest] += c->sum[k];
  }
  return FSN_OK;
}

static fsn_status run_chunk(fsn_2pc *p, size_t thread, const conv_job *j, chunk *c, size_t begin) {
  const unsigned bits = j->bits;
  const bool server = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  const size_t K = c->K, n_rot = K * bits;
  fsn_status st;
  if (server) {
    st = fsn_ot_rot_send(fsn_2pc_ot_sender(p, thread), c->k0, c->k1, n_rot);
  } else {
    memset(c->choice, 0, (n_rot + 7) / 8);
    for (size_t e = 0; e < K; e++)
      for (unsigned i = 0; i < bits; i++)
        if (j->x[begin + e] >> i & 1) c->choice[(i * K + e) / 8] |= (uint8_t)(1u << ((i * K + e) % 8));
    st = fsn_ot_rot_recv(fsn_2pc_ot_receiver(p, thread), c->k0, c->choice, n_rot);
  }
  for (size_t e0 = 0, e1; e0 < K && st == FSN_OK; e0 = e1) {
    for (e1 = e0 + 1; e1 < K && c->first[e1 + 1] - c->first[e0] <= GROUP_TOUCHES;) e1++;
    st = run_group(p, thread, j, c, begin, e0, e1);
  }
  return st == FSN_OK && server ? fsn_channel_flush(fsn_2pc_channel(p, thread)) : st;
}

/* Input elements per chunk: at most MAX_ROTS random OTs and MAX_TOUCHES weight meetings. */
static size_t chunk_elements(const fsn_conv2d_shape *s, unsigned bits) {
  const size_t m_max = s->out_c * s->k_h * s->k_w;
  size_t K = MAX_ROTS / bits;
  if (K * m_max > MAX_TOUCHES) K = MAX_TOUCHES / m_max;
  return K ? K : 1;
}

size_t fsn_linear_conv2d_chunks(const fsn_2pc *p, const fsn_conv2d_shape *s) {
  const size_t T = fsn_2pc_threads(p), total = s->batch * s->in_c * s->in_h * s->in_w, per = (total + T - 1) / T;
  const size_t K = chunk_elements(s, fsn_2pc_ell(p));
  return (per + K - 1) / K;
}

/* Thread t's share of the input elements, in chunks both parties cut identically. */
static fsn_status conv_task(fsn_2pc *p, size_t thread, void *arg) {
  const conv_job *j = arg;
  const fsn_conv2d_shape *s = j->s;
  const unsigned bits = j->bits;
  size_t T = fsn_2pc_threads(p), lo = j->total * thread / T, hi = j->total * (thread + 1) / T;
  size_t m_max = s->out_c * s->k_h * s->k_w, K_max = chunk_elements(s, bits);
  chunk c;
  fsn_status st = chunk_alloc(&c, K_max, K_max * m_max, m_max > GROUP_TOUCHES ? m_max : GROUP_TOUCHES, bits);
  for (size_t begin = lo; begin < hi && st == FSN_OK; begin += c.K) {
    c.K = hi - begin < K_max ? hi - begin : K_max;
    c.M = 0;
    for (size_t e = 0; e < c.K; e++) {
      size_t r = (begin + e) % j->in_size, hw = s->in_h * s->in_w;
      c.first[e] = c.M;
      c.M += touches_of(j, r / hw, r % hw / s->in_w, r % s->in_w, c.t + c.M);
    }
    c.first[c.K] = c.M;
    st = run_chunk(p, thread, j, &c, begin);
  }
  chunk_free(&c);
  return st;
}

fsn_status fsn_linear_conv2d(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight, const uint64_t *bias,
                             const fsn_conv2d_shape *s) {
  return fsn_linear_conv2d_narrow(p, y, x, weight, bias, s, fsn_2pc_ell(p));
}

fsn_status fsn_linear_conv2d_narrow(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight,
                                    const uint64_t *bias, const fsn_conv2d_shape *s, unsigned client_bits) {
  const unsigned ell = fsn_2pc_ell(p);
  if (client_bits < 1 || client_bits > ell)
    return fsn_fail(FSN_E_INVALID, "secure conv2d: %u client bits outside 1 .. ell = %u", client_bits, ell);
  const bool server = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  if (server && !weight) return fsn_fail(FSN_E_INVALID, "secure conv2d: the server must pass the weights");
  if (s->stride_h == 0 || s->stride_w == 0 || s->k_h == 0 || s->k_w == 0 || s->in_h + 2 * s->pad_h < s->k_h ||
      s->in_w + 2 * s->pad_w < s->k_w)
    return fsn_fail(FSN_E_INVALID, "secure conv2d: kernel %zux%zu, stride %zux%zu does not fit %zux%zu (pad %zu, %zu)",
                    s->k_h, s->k_w, s->stride_h, s->stride_w, s->in_h, s->in_w, s->pad_h, s->pad_w);
  conv_job j = {.s = s, .oh = fsn_conv2d_out_h(s), .ow = fsn_conv2d_out_w(s), .x = x, .w = weight, .bits = client_bits};
  j.in_size = s->in_c * s->in_h * s->in_w;
  j.out_size = s->out_c * j.oh * j.ow;
  j.total = s->batch * j.in_size;
  if (j.out_size > UINT32_MAX || s->out_c * s->in_c * s->k_h * s->k_w > UINT32_MAX)
    return fsn_fail(FSN_E_INVALID, "secure conv2d: layer too large (%zu outputs per item)", j.out_size);
  size_t T = fsn_2pc_threads(p), ny = s->batch * j.out_size;
  fsn_status st = FSN_OK;
  j.acc = calloc(T, sizeof *j.acc);
  if (!j.acc) return fsn_fail(FSN_E_NOMEM, "secure conv2d accumulators");
  for (size_t t = 0; t < T && st == FSN_OK; t++)
    if (!(j.acc[t] = calloc(ny + 1, sizeof **j.acc))) st = fsn_fail(FSN_E_NOMEM, "secure conv2d accumulators");
  if (st == FSN_OK) st = fsn_2pc_run(p, conv_task, &j);
  if (st == FSN_OK) {
    if (server) { /* the local term W·x_server + bias */
      void *scratch = aligned_alloc(64, (fsn_conv2d_scratch_bytes(s) + 64) / 64 * 64);
      if (!scratch)
        st = fsn_fail(FSN_E_NOMEM, "secure conv2d scratch");
      else
        fsn_conv2d(y, x, weight, bias, s, scratch);
      free(scratch);
    } else {
      memset(y, 0, ny * sizeof *y);
    }
  }
  if (st == FSN_OK) {
    for (size_t t = 0; t < T; t++) fsn_ring_add(y, y, j.acc[t], ny, 64);
    const uint64_t mask = fsn_ring_mask(ell);
    for (size_t i = 0; i < ny; i++) y[i] &= mask;
  }
  for (size_t t = 0; t < T; t++) free(j.acc[t]);
  free(j.acc);
  return st;
}

fsn_conv2d_shape fsn_linear_fc_shape(size_t batch, size_t in, size_t out) {
  return (fsn_conv2d_shape){
      .batch = batch, .in_c = in, .in_h = 1, .in_w = 1, .out_c = out, .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1};
}

fsn_status fsn_linear_fc(fsn_2pc *p, uint64_t *y, const uint64_t *x, const uint64_t *weight, const uint64_t *bias,
                         size_t batch, size_t in, size_t out) {
  const fsn_conv2d_shape s = fsn_linear_fc_shape(batch, in, out);
  return fsn_linear_conv2d(p, y, x, weight, bias, &s);
}
