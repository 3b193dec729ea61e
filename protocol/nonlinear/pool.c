/* Max pooling and argmax: a tree of max(a, b) = b + MUX(ge, a - b) over every window (or logit row) at once, one
 * level of the tree per round of comparisons. ge = [a >= b] must be exact for any signed values (the plaintext
 * compares the full ell-bit values), so each candidate carries its sign bit: with s = MSB(a) ^ MSB(b) and
 * md = MSB(a - b), ge = !md ^ (s & (!md ^ MSB(b))), and the sign of the maximum is MSB(a) & MSB(b) = (s & MSB(b)) ^
 * MSB(b): both ANDs share the operand s, so one correlated triple covers them. On ties ge keeps a, the earlier
 * candidate, so argmax returns the first maximum. */
#include "protocol/nonlinear/nl_internal.h"

#include <stdlib.h>
#include <string.h>

/* Candidates of `groups` windows, window w at [w * cap, w * cap + cnt[w]) of val, msb and (argmax) idx. */
typedef struct cands {
  uint64_t *val, *idx;
  uint8_t *msb;
  size_t *cnt;
  size_t groups, cap;
} cands;

/* One level: every window with more than one candidate compares its pairs (2k, 2k + 1). */
static fsn_status level(fsn_2pc *p, cands *c, size_t np) {
  const uint64_t mask = fsn_ring_mask(fsn_2pc_ell(p));
  const uint8_t one = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  const size_t nv = c->idx ? 2 * np : np; /* MUX inputs: a - b, and ia - ib for argmax */
  uint64_t *d = malloc((np + 2 * nv) * sizeof *d);
  uint8_t *bits = malloc(6 * np + nv);
  fsn_status st = FSN_OK;
  if (!d || !bits) {
    st = fsn_fail(FSN_E_NOMEM, "max tree level of %zu comparisons", np);
    goto done;
  }
  uint64_t *bv = d + np, *mx = d + np + nv; /* b values (and indices), MUX inputs / outputs */
  uint8_t *mb = bits, *md = bits + np, *s = bits + 2 * np, *y1 = bits + 3 * np, *z2 = bits + 4 * np,
          *mnew = bits + 5 * np, *ge = bits + 6 * np;
  size_t g = 0;
  for (size_t w = 0; w < c->groups; w++)
    for (size_t k = 0; k + 1 < c->cnt[w]; k += 2, g++) {
      const size_t a = w * c->cap + k, b = a + 1;
      mx[g] = (c->val[a] - c->val[b]) & mask, bv[g] = c->val[b];
      if (c->idx) mx[np + g] = (c->idx[a] - c->idx[b]) & mask, bv[np + g] = c->idx[b];
      mb[g] = c->msb[b], s[g] = c->msb[a] ^ c->msb[b];
    }
  if ((st = fsn_nl_msb(p, md, mx, np)) != FSN_OK) goto done;
  for (size_t i = 0; i < np; i++) md[i] ^= one, y1[i] = md[i] ^ mb[i]; /* md now holds !MSB(a - b) */
  if ((st = fsn_nl_and2_batch(p, y1, z2, s, y1, mb, np)) != FSN_OK) goto done;
  for (size_t i = 0; i < np; i++) ge[i] = md[i] ^ y1[i], mnew[i] = z2[i] ^ mb[i];
  if (c->idx) memcpy(ge + np, ge, np);
  if ((st = fsn_nl_mux(p, mx, ge, mx, nv)) != FSN_OK) goto done;
  g = 0;
  for (size_t w = 0; w < c->groups; w++) {
    const size_t n = c->cnt[w], base = w * c->cap;
    size_t k = 0;
    for (; 2 * k + 1 < n; k++, g++) {
      c->val[base + k] = (bv[g] + mx[g]) & mask, c->msb[base + k] = mnew[g];
      if (c->idx) c->idx[base + k] = (bv[np + g] + mx[np + g]) & mask;
    }
    if (n & 1) {
      c->val[base + k] = c->val[base + n - 1], c->msb[base + k] = c->msb[base + n - 1];
      if (c->idx) c->idx[base + k] = c->idx[base + n - 1];
    }
    c->cnt[w] = (n + 1) / 2;
  }
done:
  free(d), free(bits);
  return st;
}

/* Run the tree to one candidate per window (c->val and c->msb hold the candidates and their sign bits). */
static fsn_status max_tree(fsn_2pc *p, cands *c) {
  fsn_status st = FSN_OK;
  while (st == FSN_OK) {
    size_t np = 0;
    for (size_t w = 0; w < c->groups; w++) np += c->cnt[w] / 2;
    if (np == 0) break;
    st = level(p, c, np);
  }
  return st;
}

static size_t out_dim(size_t in, size_t k, size_t stride, size_t pad) {
  return in + 2 * pad < k || stride == 0 ? 0 : (in + 2 * pad - k) / stride + 1;
}

static void free_cands(cands *c) { free(c->val), free(c->idx), free(c->msb), free(c->cnt); }

static fsn_status alloc_cands(cands *c, size_t groups, size_t cap, bool with_idx) {
  *c = (cands){.groups = groups, .cap = cap};
  const size_t n = groups * cap;
  c->val = calloc(n + 1, sizeof *c->val);
  c->msb = calloc(n + 1, 1);
  c->cnt = calloc(groups + 1, sizeof *c->cnt);
  if (with_idx) c->idx = calloc(n + 1, sizeof *c->idx);
  if (!c->val || !c->msb || !c->cnt || (with_idx && !c->idx)) {
    free_cands(c);
    return fsn_fail(FSN_E_NOMEM, "max tree over %zu x %zu candidates", groups, cap);
  }
  return FSN_OK;
}

fsn_status fsn_nl_maxpool2d(fsn_2pc *p, uint64_t *out, const uint64_t *in, const fsn_pool_shape *s) {
  const size_t oh = out_dim(s->in_h, s->k_h, s->stride_h, s->pad_h),
               ow = out_dim(s->in_w, s->k_w, s->stride_w, s->pad_w);
  const size_t planes = s->batch * s->channels, groups = planes * oh * ow, cap = s->k_h * s->k_w;
  if (s->pad_h >= s->k_h || s->pad_w >= s->k_w)
    return fsn_fail(FSN_E_INVALID, "max pool: padding %zu x %zu leaves windows of only padding (kernel %zu x %zu)",
                    s->pad_h, s->pad_w, s->k_h, s->k_w);
  if (groups == 0 || cap == 0) return FSN_OK;
  cands c;
  fsn_status st = alloc_cands(&c, groups, cap, false);
  if (st != FSN_OK) return st;
  /* Sign bits once per input (windows overlap), then gathered with the values. */
  const size_t nin = planes * s->in_h * s->in_w;
  uint8_t *msb = malloc(nin + 1);
  if (!msb) {
    free_cands(&c);
    return fsn_fail(FSN_E_NOMEM, "max pool sign bits of %zu inputs", nin);
  }
  if ((st = fsn_nl_msb(p, msb, in, nin)) != FSN_OK) {
    free(msb), free_cands(&c);
    return st;
  }
  size_t w = 0;
  for (size_t pl = 0; pl < planes; pl++)
    for (size_t y = 0; y < oh; y++)
      for (size_t x = 0; x < ow; x++, w++)
        for (size_t ky = 0; ky < s->k_h; ky++)
          for (size_t kx = 0; kx < s->k_w; kx++) {
            const size_t iy = y * s->stride_h + ky, ix = x * s->stride_w + kx; /* padded coordinates */
            if (iy < s->pad_h || ix < s->pad_w || iy - s->pad_h >= s->in_h || ix - s->pad_w >= s->in_w) continue;
            const size_t src = (pl * s->in_h + iy - s->pad_h) * s->in_w + ix - s->pad_w;
            c.val[w * cap + c.cnt[w]] = in[src], c.msb[w * cap + c.cnt[w]++] = msb[src];
          }
  free(msb);
  if ((st = max_tree(p, &c)) == FSN_OK)
    for (size_t i = 0; i < groups; i++) out[i] = c.val[i * cap];
  free_cands(&c);
  return st;
}

fsn_status fsn_nl_argmax(fsn_2pc *p, uint64_t *label, const uint64_t *logits, size_t batch, size_t dim) {
  if (batch == 0) return FSN_OK;
  if (dim == 0) return fsn_fail(FSN_E_INVALID, "argmax over 0 logits");
  const uint64_t mask = fsn_ring_mask(fsn_2pc_ell(p));
  if (dim - 1 > mask) return fsn_fail(FSN_E_INVALID, "argmax: %zu logits do not fit the ring", dim);
  cands c;
  fsn_status st = alloc_cands(&c, batch, dim, true);
  if (st != FSN_OK) return st;
  const bool server = fsn_2pc_role(p) == FSN_ROLE_SERVER;
  memcpy(c.val, logits, batch * dim * sizeof *logits);
  for (size_t b = 0; b < batch; b++) {
    c.cnt[b] = dim;
    for (size_t j = 0; j < dim; j++) c.idx[b * dim + j] = server ? j : 0; /* a public index: the server's share */
  }
  if ((st = fsn_nl_msb(p, c.msb, c.val, batch * dim)) == FSN_OK) st = max_tree(p, &c);
  if (st == FSN_OK) {
    for (size_t b = 0; b < batch; b++) c.idx[b] = c.idx[b * dim];
    uint64_t *tmp = server ? NULL : malloc(batch * sizeof *tmp);
    if (!server && !tmp)
      st = fsn_fail(FSN_E_NOMEM, "argmax labels");
    else
      st = fsn_2pc_reveal(p, tmp, c.idx, batch, FSN_ROLE_CLIENT);
    if (st == FSN_OK && !server) memcpy(label, tmp, batch * sizeof *tmp);
    free(tmp);
  }
  free_cands(&c);
  return st;
}
