/* `fusion bench model`: what one secure inference of a network costs, layer by layer, with both parties as two
 * processes over loopback (no link emulation: the seconds are compute plus loopback transfer).
 *
 * A layer whose full size would take too long here runs as a *probe*: the same layer (same kind, kernel, stride,
 * padding, full spatial size, and its fused ReLU) with only the first c' of its C input channels and o' of its O
 * output channels, through the same secure executor. Costs are exactly linear in the channel counts, part by part:
 * in the linear protocol the client's OT columns grow with C (ell random OTs per input element) and the server's
 * corrections with C * O (one per weight an element meets); the truncation, ReLU and pooling that follow grow with
 * O. So the probe's bytes are scaled part by part (C / c', C O / (c' o'), O / o'), the linear protocol's seconds by
 * its bytes' ratio and the rest's by O / o'. Rounds follow the protocols' work units: the linear protocol's chunks
 * and the non-linear protocols' blocks per thread (fsn_linear_conv2d_chunks, fsn_nl_blocks), counted for the full
 * layer and for the probe. Every projected figure is marked as such.
 *
 * A grouped conv (depthwise: one channel a group) keeps its group shape: the probe takes g' of its G whole groups (C/G
 * inputs and O/G outputs each), and the weights an element meets grow with G, not with O: the server's corrections
 * scale by (C O / G) / (c' o' / g'). The layer runs as the engines run it, one dense conv per group.
 *
 * The probe scaling is a device of vcot, whose bytes are linear in the channel counts. Any other linear backend (he:
 * ciphertexts hold many channels, so its cost is not linear in them) runs every conv/fc layer's linear protocol
 * whole, at full size, through the backend itself; only what follows it (truncation, fused ReLU) keeps the probe.
 * --linear-only runs the linear protocols alone (whole for he, probed for vcot) and skips every other layer. */
#include <fusion/fusion.h>
#include <fusion/he.h>

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/bench_2p.h"
#include "apps/commands.h"
#include "apps/common.h"

#define MAX_THREADS 16

typedef struct part {
  double seconds, c2s, s2c, rounds; /* bytes client -> server and server -> client */
} part;

typedef struct probe {
  size_t layer, span;  /* model layers covered: layer .. layer + span - 1 (a conv/fc and its fused ReLU) */
  size_t C, O, c, o;   /* full and probe channel counts (O = C for layers that keep the channels) */
  size_t G, g;         /* full and probe group counts of a conv (1: dense, and every other layer) */
  fsn_shape in;        /* the layer's input shape (per sample) */
  part lin, rest, all; /* measured: the linear protocol, everything else; projected: all */
  part whole;          /* a backend other than vcot: the linear protocol run at full size */
  part lin_full;       /* the full layer's linear protocol: whole, or the probe's projected */
  bool linear, run_whole;
} probe;

typedef struct bench {
  const char *spec, *only; /* only: NULL, or a comma-separated list of layer names to run */
  const char *backend;     /* the linear backend's name */
  const char *ot;          /* the OT pack (fsn_ot_pack_resolve; NULL: the default) */
  unsigned long long seed, threads, ell, scale, elements, meetings, batch;
  bool json, image_input; /* image_input: the model's input is an image (s + 1 bits a value) */
  bool linear_only;       /* the conv/fc layers' linear protocols alone */
  fsn_model *m;
  probe *probes;
  size_t count;
  part setup, total, linear_total;
} bench;

static size_t min_z(size_t a, size_t b) { return a < b ? a : b; }
static size_t max1(size_t a) { return a ? a : 1; }
static size_t values(fsn_shape s) { return s.c * s.h * s.w; }

static bool is_linear(const fsn_layer *l) { return l->desc.kind == FSN_LAYER_CONV || l->desc.kind == FSN_LAYER_FC; }

/* Only vcot's cost scales with the channel counts (see the top of the file). */
static bool runs_whole(const bench *b) {
  return strcmp(fsn_linear_backend_resolve(b->backend, (unsigned)b->ell)->name, "vcot") != 0;
}

static size_t groups_of(const fsn_layer *l) { return l->desc.kind == FSN_LAYER_CONV ? max1(l->desc.groups) : 1; }

/* Weights the input elements meet in a probe with c input and o output channels in g groups (upper bound: ignores
 * borders). */
static size_t meetings(const fsn_layer *l, size_t c, size_t o, size_t g) {
  const fsn_layer_desc *d = &l->desc;
  if (d->kind == FSN_LAYER_FC) return c * o;
  return c * l->in_shape.h * l->in_shape.w * (o / g) * d->k_h * d->k_w / (max1(d->stride_h) * max1(d->stride_w));
}

/* Probe channel counts within the budget: at most `elements` values in the probe's input and in its output, at most
 * `meetings` weight meetings in its linear protocol. */
static void plan_probe(const bench *b, probe *p) {
  const fsn_layer *l = fsn_model_layer(b->m, p->layer);
  const size_t hw = l->in_shape.h * l->in_shape.w, ohw = l->out_shape.h * l->out_shape.w;
  p->in = l->in_shape;
  p->G = p->g = groups_of(l);
  p->linear = is_linear(l);
  p->run_whole = p->linear && runs_whole(b);
  if (!is_linear(l)) {
    p->C = p->O = l->in_shape.c;
    p->c = p->o = min_z(p->C, max1(b->elements / hw));
    return;
  }
  p->C = l->desc.kind == FSN_LAYER_FC ? l->in_shape.c * hw : l->in_shape.c;
  p->O = l->desc.out_c;
  const size_t in_hw = l->desc.kind == FSN_LAYER_FC ? 1 : hw, out_hw = l->desc.kind == FSN_LAYER_FC ? 1 : ohw;
  if (p->G > 1) { /* whole groups (at least one, whatever its size) */
    const size_t cg = p->C / p->G, og = p->O / p->G;
    p->g = min_z(p->G, max1(min_z(b->elements / (in_hw * cg), b->elements / (out_hw * og))));
    while (p->g > 1 && meetings(l, p->g * cg, p->g * og, p->g) > b->meetings) p->g = (p->g + 1) / 2;
    p->c = p->g * cg, p->o = p->g * og;
    return;
  }
  p->c = min_z(p->C, max1(b->elements / in_hw));
  p->o = min_z(p->O, max1(b->elements / out_hw));
  while (p->o > 1 && meetings(l, p->c, p->o, 1) > b->meetings) p->o = (p->o + 1) / 2;
  while (p->c > 1 && meetings(l, p->c, p->o, 1) > b->meetings) p->c = (p->c + 1) / 2;
}

static void random_floats(float *v, size_t n, uint64_t *state) {
  for (size_t i = 0; i < n; i++) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    v[i] = (float)((double)(*state >> 40) / (double)(1 << 24) - 0.5) * 0.1f;
  }
}

/* The probe model: the layer with c input and o output channels, plus its fused ReLU; weights are random. */
static fsn_status build_probe(const bench *b, const probe *p, fsn_model **out) {
  const fsn_layer *l = fsn_model_layer(b->m, p->layer);
  fsn_layer_desc d = l->desc;
  const bool fc = d.kind == FSN_LAYER_FC;
  fsn_model *m;
  fsn_status st = fc ? fsn_model_create(&m, p->c, 1, 1) : fsn_model_create(&m, p->c, p->in.h, p->in.w);
  if (st != FSN_OK) return st;
  float *w = NULL, *bias = NULL;
  d.in = d.in2 = 0;
  if (is_linear(l)) {
    size_t nw = p->c / p->g * p->o * (fc ? 1 : d.k_h * d.k_w);
    uint64_t state = b->seed + p->layer;
    w = malloc(nw * sizeof *w), bias = malloc(p->o * sizeof *bias);
    if (!w || !bias) st = fsn_fail(FSN_E_NOMEM, "probe weights of layer '%s'", d.name);
    if (st == FSN_OK) random_floats(w, nw, &state), random_floats(bias, p->o, &state);
    d.out_c = p->o, d.weight = w, d.bias = bias;
    if (!fc) d.groups = p->g;
  }
  if (st == FSN_OK) st = fsn_model_add(m, &d, NULL);
  if (st == FSN_OK && p->span == 2) st = fsn_model_add(m, &(fsn_layer_desc){.kind = FSN_LAYER_RELU, .in = 1}, NULL);
  if (st == FSN_OK) st = fsn_model_quantize(m, (unsigned)b->ell, (unsigned)b->scale);
  free(w), free(bias);
  if (st != FSN_OK) fsn_model_destroy(m), m = NULL;
  *out = m;
  return st;
}

static part part_of(const fsn_cost *c, fsn_role role) {
  const bool server = role == FSN_ROLE_SERVER;
  return (part){.seconds = c->seconds,
                .c2s = (double)(server ? c->bytes_recv : c->bytes_sent),
                .s2c = (double)(server ? c->bytes_sent : c->bytes_recv),
                .rounds = (double)c->rounds};
}

static void part_add(part *acc, const part *x, double k) {
  acc->seconds += k * x->seconds, acc->c2s += k * x->c2s, acc->s2c += k * x->s2c, acc->rounds += k * x->rounds;
}

/* The shape of one group's conv for c input and o output channels of the layer in g groups (g = 1: the layer). */
static fsn_conv2d_shape group_shape(const fsn_layer *l, size_t c, size_t o, size_t g) {
  const fsn_layer_desc *d = &l->desc;
  return (fsn_conv2d_shape){1,      c / g,       l->in_shape.h, l->in_shape.w, o / g,   d->k_h,
                            d->k_w, d->stride_h, d->stride_w,   d->pad_h,      d->pad_w};
}

/* The linear protocol's chunks for c input and o output channels of the layer in g groups (one conv a group). */
static size_t linear_chunks(const fsn_2pc *p2, const fsn_layer *l, size_t c, size_t o, size_t g) {
  const fsn_conv2d_shape one = l->desc.kind == FSN_LAYER_FC ? fsn_linear_fc_shape(1, c, o) : group_shape(l, c, o, g);
  return (l->desc.kind == FSN_LAYER_FC ? 1 : g) * fsn_linear_conv2d_chunks(p2, &one);
}

static double ratio(size_t a, size_t b) { return (double)a / (double)(b ? b : 1); }

/* Scale the probe's measurement to the full layer (see the top of the file). */
static void project(probe *p, const fsn_model *m, const fsn_2pc *p2) {
  const fsn_layer *l = fsn_model_layer(m, p->layer);
  const double in = ratio(p->C, p->c), out = ratio(p->O, p->o), cross = in * out * ratio(p->g, p->G);
  const double probe_lin = p->lin.c2s + p->lin.s2c, full_lin = p->lin.c2s * in + p->lin.s2c * cross;
  const double k_lin = probe_lin > 0 ? full_lin / probe_lin : 1.0;
  const size_t ohw = l->out_shape.h * l->out_shape.w;
  double k_chunks = 1.0;
  if (is_linear(l)) k_chunks = ratio(linear_chunks(p2, l, p->C, p->O, p->G), linear_chunks(p2, l, p->c, p->o, p->g));
  const double k_blocks = ratio(fsn_nl_blocks(p2, p->O * ohw), fsn_nl_blocks(p2, p->o * ohw));
  p->lin_full = (part){.seconds = p->lin.seconds * k_lin,
                       .c2s = p->lin.c2s * in,
                       .s2c = p->lin.s2c * cross,
                       .rounds = p->lin.rounds * k_chunks};
  if (p->run_whole) p->lin_full = p->whole;
  p->all = (part){.seconds = p->rest.seconds * out,
                  .c2s = p->rest.c2s * out,
                  .s2c = p->rest.s2c * out,
                  .rounds = p->rest.rounds * k_blocks};
  part_add(&p->all, &p->lin_full, 1.0);
}

static bool is_projected(const probe *p) { return p->c != p->C || p->o != p->O; }

/* This party's counters and clock since (t0, c0). */
static part measured(fsn_2pc *p2, fsn_role role, double t0, const fsn_counters *c0) {
  fsn_counters c1;
  fsn_2pc_counters(p2, &c1);
  const fsn_cost c = {fsn_bench_2p_now() - t0, c1.bytes_sent - c0->bytes_sent, c1.bytes_recv - c0->bytes_recv,
                      c1.rounds - c0->rounds};
  return part_of(&c, role);
}

/* One group's conv through the backend (a dense layer is one group). */
typedef struct whole_conv {
  const fsn_linear_backend *be;
  fsn_2pc *p2;
  unsigned bits;
} whole_conv;

static fsn_status backend_conv(void *arg, uint64_t *y, const uint64_t *x, const uint64_t *w, const uint64_t *b,
                               const fsn_conv2d_shape *s) {
  const whole_conv *c = arg;
  const bool server = fsn_2pc_role(c->p2) == FSN_ROLE_SERVER;
  return c->be->conv2d(c->p2, y, x, server ? w : NULL, server ? b : NULL, s, c->bits);
}

/* The layer's linear protocol at full size through the backend, outside the executor (a grouped conv as the
 * executor runs it, one conv a group): random shares of a random input (a layer reading the model input gets the
 * client's image as `fusion client` sends it: s + 1 bits, the server's share zero) and the model's quantised
 * weights. */
static fsn_status run_whole_linear(const bench *b, fsn_2pc *p2, fsn_role role, probe *p) {
  const fsn_layer *l = fsn_model_layer(b->m, p->layer);
  const fsn_linear_backend *be = fsn_linear_backend_resolve(b->backend, (unsigned)b->ell);
  const bool server = role == FSN_ROLE_SERVER, reads_input = b->image_input && l->desc.in == 0;
  const unsigned bits = reads_input ? (unsigned)b->scale + 1 : (unsigned)b->ell;
  const size_t in_n = b->batch * values(l->in_shape), out_n = b->batch * values(l->out_shape);
  uint64_t *x = malloc((in_n + 1) * sizeof *x), *y = malloc((out_n + 1) * sizeof *y);
  fsn_status st = x && y ? FSN_OK : fsn_fail(FSN_E_NOMEM, "layer '%s' of %zu inputs", l->desc.name, in_n);
  if (st == FSN_OK) {
    randombytes_buf(x, in_n * sizeof *x);
    fsn_ring_reduce(x, x, in_n, bits);
    if (reads_input && server) memset(x, 0, in_n * sizeof *x);
    st = fsn_bench_2p_sync(fsn_2pc_channel(p2, 0), role);
  }
  const uint64_t *w = server ? l->qweight : NULL, *bias = server ? l->qbias : NULL;
  fsn_counters c0;
  fsn_2pc_counters(p2, &c0);
  const double t0 = fsn_bench_2p_now();
  if (st == FSN_OK && l->desc.kind == FSN_LAYER_FC) {
    st = be->fc(p2, y, x, w, bias, b->batch, p->C, p->O, bits);
  } else if (st == FSN_OK) {
    whole_conv c = {be, p2, bits};
    st = fsn_nn_conv_groups(l, b->batch, y, x, backend_conv, &c);
  }
  p->whole = measured(p2, role, t0, &c0);
  if (st == FSN_OK) st = fsn_bench_2p_sync(fsn_2pc_channel(p2, 0), role);
  /* The server counts a round where it receives after sending: its layer's last turn shows at the barrier's read. */
  p->whole.rounds = measured(p2, role, t0, &c0).rounds;
  free(x), free(y);
  return st;
}

static fsn_status run_probe(const bench *b, fsn_2pc *p2, fsn_role role, probe *p) {
  if (p->run_whole) {
    fsn_status st = run_whole_linear(b, p2, role, p);
    if (st != FSN_OK || b->linear_only) {
      p->lin_full = p->all = p->whole;
      return st;
    }
  }
  fsn_model *m;
  fsn_status st = build_probe(b, p, &m);
  if (st != FSN_OK) return st;
  const size_t L = fsn_model_num_layers(m), batch = b->batch, in_n = batch * values(fsn_model_input_shape(m));
  uint64_t *x = malloc((in_n + 1) * sizeof *x),
           *y = malloc((batch * values(fsn_model_output_shape(m)) + 1) * sizeof *y);
  fsn_cost costs[2] = {{0}}, lin[2] = {{0}};
  if (!x || !y) st = fsn_fail(FSN_E_NOMEM, "probe of %zu inputs", in_n);
  if (st == FSN_OK) {
    randombytes_buf(x, in_n * sizeof *x);
    fsn_ring_reduce(x, x, in_n, (unsigned)b->ell);
    st = fsn_bench_2p_sync(fsn_2pc_channel(p2, 0), role);
  }
  /* a layer reading the model input gets image inputs, as `fusion client` sends them: s + 1 bits */
  const bool reads_input = b->image_input && fsn_model_layer(b->m, p->layer)->desc.in == 0;
  fsn_secure_opts o = {.trunc = FSN_TRUNC_EXACT,
                       .layer_costs = costs,
                       .linear_costs = lin,
                       .input_bits = reads_input ? (unsigned)b->scale + 1 : 0,
                       .linear_backend = b->backend};
  if (st == FSN_OK) st = fsn_secure_run(p2, m, y, role == FSN_ROLE_CLIENT ? x : NULL, batch, &o, NULL);
  if (st == FSN_OK) st = fsn_bench_2p_sync(fsn_2pc_channel(p2, 0), role);
  if (st == FSN_OK) {
    p->lin = part_of(&lin[0], role);
    fsn_cost rest = {0};
    for (size_t k = 0; k < L; k++) {
      rest.seconds += costs[k].seconds - lin[k].seconds;
      rest.bytes_sent += costs[k].bytes_sent - lin[k].bytes_sent;
      rest.bytes_recv += costs[k].bytes_recv - lin[k].bytes_recv;
      rest.rounds += costs[k].rounds - lin[k].rounds;
    }
    p->rest = b->linear_only ? (part){0} : part_of(&rest, role);
    project(p, b->m, p2);
  }
  free(x), free(y);
  fsn_model_destroy(m);
  return st;
}

static int run_party(fsn_role role, fsn_channel **ch, size_t nthreads, void *arg) {
  bench *b = arg;
  fsn_2pc *p2;
  fsn_counters c;
  const double t0 = fsn_bench_2p_now();
  const fsn_2pc_options opt = {.ot = b->ot};
  fsn_status st = fsn_2pc_create(&p2, ch, nthreads, role, (unsigned)b->ell, (unsigned)b->scale, &opt);
  if (st != FSN_OK) {
    fprintf(stderr, "fusion bench model: context: %s\n", fsn_last_error());
    return 1;
  }
  const fsn_linear_backend *be = fsn_linear_backend_resolve(b->backend, (unsigned)b->ell);
  if (be->setup && (st = be->setup(p2)) != FSN_OK) { /* he: the keys, so that no layer carries them */
    fprintf(stderr, "fusion bench: %s setup: %s\n", be->name, fsn_last_error());
    fsn_2pc_destroy(p2);
    return 1;
  }
  fsn_2pc_counters(p2, &c);
  fsn_cost setup = {fsn_bench_2p_now() - t0, c.bytes_sent, c.bytes_recv, c.rounds};
  b->setup = part_of(&setup, role);
  b->total = b->setup;
  b->linear_total = (part){0};
  const double start = fsn_bench_2p_now();
  for (size_t i = 0; i < b->count && st == FSN_OK; i++) {
    probe *p = &b->probes[i];
    const fsn_layer *l = fsn_model_layer(b->m, p->layer);
    st = run_probe(b, p2, role, p);
    if (st != FSN_OK || role != FSN_ROLE_SERVER) continue;
    part_add(&b->total, &p->all, 1.0);
    part_add(&b->linear_total, &p->lin_full, 1.0);
    fprintf(stderr, "%s  probe %zu/%zu %-14s channels %zu/%zu -> %zu/%zu  %6.2f s  (elapsed %.0f s)   ",
            isatty(2) ? "\r"
            : i       ? "\n"
                      : "",
            i + 1, b->count, l->desc.name, p->run_whole ? p->C : p->c, p->C, p->run_whole ? p->O : p->o, p->O,
            p->all.seconds, fsn_bench_2p_now() - start);
  }
  if (role == FSN_ROLE_SERVER) fprintf(stderr, "\n");
  if (st != FSN_OK) fprintf(stderr, "fusion bench model: %s\n", fsn_last_error());
  fsn_2pc_destroy(p2);
  return st == FSN_OK ? 0 : 1;
}

static void json_part(const char *key, const part *p) {
  printf("\"%s\": {\"seconds\": %.6f, \"bytes_client_to_server\": %.0f, \"bytes_server_to_client\": %.0f, "
         "\"rounds\": %.0f}",
         key, p->seconds, p->c2s, p->s2c, p->rounds);
}

static void report_json(const bench *b) {
  bool any = false;
  for (size_t i = 0; i < b->count; i++) any |= is_projected(&b->probes[i]);
  printf("{\"bench\": \"model\", \"model\": ");
  fsn_app_json_string(stdout, b->spec);
  printf(", \"linear_backend\": \"%s\", \"linear_only\": %s, \"batch\": %llu",
         fsn_linear_backend_resolve(b->backend, (unsigned)b->ell)->name, b->linear_only ? "true" : "false", b->batch);
  printf(", \"ot\": \"%s\"", fsn_ot_pack_resolve(b->ot));
  printf(", \"isa\": \"%s\", \"ell\": %llu, \"scale\": %llu, \"threads\": %llu, \"probe_elements\": %llu, "
         "\"probe_meetings\": %llu, \"projected\": %s, ",
         fsn_isa_name(fsn_isa_active()), b->ell, b->scale, b->threads, b->elements, b->meetings,
         any ? "true" : "false");
  json_part("setup", &b->setup);
  printf(", ");
  json_part("total", &b->total);
  printf(", ");
  json_part("linear_total", &b->linear_total);
  printf(", \"layers\": [");
  for (size_t i = 0; i < b->count; i++) {
    const probe *p = &b->probes[i];
    const fsn_layer *l = fsn_model_layer(b->m, p->layer);
    printf("%s\n  {\"index\": %zu, \"name\": ", i ? "," : "", p->layer);
    fsn_app_json_string(stdout, l->desc.name);
    printf(", \"kind\": \"%s\", \"fused_relu\": %s, \"in\": [%zu, %zu, %zu], \"out\": [%zu, %zu, %zu], "
           "\"channels\": [%zu, %zu], \"probe_channels\": [%zu, %zu], \"groups\": [%zu, %zu], \"projected\": %s, "
           "\"linear_whole\": %s, ",
           fsn_layer_kind_name(l->desc.kind), p->span == 2 ? "true" : "false", l->in_shape.c, l->in_shape.h,
           l->in_shape.w, l->out_shape.c, l->out_shape.h, l->out_shape.w, p->C, p->O, p->c, p->o, p->G, p->g,
           is_projected(p) ? "true" : "false", p->run_whole ? "true" : "false");
    json_part("linear", &p->lin_full);
    printf(", ");
    json_part("probe_linear", &p->lin);
    printf(", ");
    json_part("probe_rest", &p->rest);
    printf(", ");
    json_part("cost", &p->all);
    printf("}");
  }
  printf("]}\n");
}

static void report_text(const bench *b) {
  printf("%s: %llu inference(s)%s, 2 processes over loopback (both parties share this machine's cores), %llu thread(s) "
         "each, isa %s, ell %llu, s %llu\n",
         b->spec, b->batch, b->linear_only ? " (linear layers only)" : "", b->threads, fsn_isa_name(fsn_isa_active()),
         b->ell, b->scale);
  printf("%-18s %-8s %12s %6s %10s %12s %12s %9s\n", "layer", "kind", "channels", "probe", "seconds", "client MiB",
         "server MiB", "rounds");
  for (size_t i = 0; i < b->count; i++) {
    const probe *p = &b->probes[i];
    const fsn_layer *l = fsn_model_layer(b->m, p->layer);
    char ch[32];
    snprintf(ch, sizeof ch, "%zu/%zu", p->run_whole ? p->C : p->c, p->C);
    printf("%-18s %-8s %12s %6s %10.3f %12.2f %12.2f %9.0f\n", l->desc.name,
           p->span == 2 && !b->linear_only ? "conv+relu" : fsn_layer_kind_name(l->desc.kind), ch,
           is_projected(p) && !(p->run_whole && b->linear_only) ? "yes" : "-", p->all.seconds, p->all.c2s / 1048576.0,
           p->all.s2c / 1048576.0, p->all.rounds);
  }
  printf(
      "setup (base OTs): %.3f s; total with setup: %.2f s, client sent %.2f MiB, server sent %.2f MiB, %.0f rounds\n",
      b->setup.seconds, b->total.seconds, b->total.c2s / 1048576.0, b->total.s2c / 1048576.0, b->total.rounds);
  printf("linear layers (backend %s%s): %.2f s, client sent %.2f MiB, server sent %.2f MiB, %.2f MiB both ways, "
         "%.0f rounds\n",
         fsn_linear_backend_resolve(b->backend, (unsigned)b->ell)->name, runs_whole(b) ? ", each run whole" : "",
         b->linear_total.seconds, b->linear_total.c2s / 1048576.0, b->linear_total.s2c / 1048576.0,
         (b->linear_total.c2s + b->linear_total.s2c) / 1048576.0, b->linear_total.rounds);
  for (size_t i = 0; i < b->count; i++)
    if (is_projected(&b->probes[i])) {
      printf("(projected from probes with fewer channels; see `fusion bench model --help`)\n");
      break;
    }
}

/* name is one of the comma-separated names in list. */
static bool listed(const char *list, const char *name) {
  const size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return true;
    p += len + (end != NULL);
  }
  return false;
}

static int usage(FILE *out) {
  fprintf(
      out,
      "usage: fusion bench model [--model FILE.onnx|builtin:NAME] [--seed S] [--ell L --scale S] [--threads T]\n"
      "                          [--probe-elements E] [--probe-meetings M] [--layers NAME,...] [--json]\n"
      "                          [--backend vcot|he|he-packed] [--linear-only] [--batch B] [--ot iknp|kk13|ferret]\n"
      "  The cost of one secure inference, layer by layer (default model builtin:resnet50). A layer too big to\n"
      "  run here runs on its first c' of C input and o' of O output channels (at most E values in the probe's\n"
      "  input and output, default 65536; at most M weight meetings in its linear protocol, default 2097152),\n"
      "  and its cost is scaled to the full layer part by part: bytes exactly (client OT columns x C/c', server\n"
      "  corrections x CO/c'o', truncation/ReLU/pooling x O/o'), seconds in the same proportions, rounds by the\n"
      "  protocols' chunks and blocks. --layers runs only the named layers (a conv names its fused ReLU too).\n"
      "  --backend picks the conv/fc protocol (default: the library's); every backend but vcot runs each\n"
      "  conv/fc layer's linear protocol whole. --linear-only measures the conv/fc layers' linear protocols\n"
      "  alone. --batch runs B inferences at once (he transforms each filter once for the whole batch). --ot\n"
      "  picks the OT pack (default: ferret at ISA level avx2 and above, iknp at ref).\n");
  return out == stderr ? 2 : 0;
}

int fsn_bench_model(int argc, char **argv) {
  static bench b;
  b = (bench){.spec = "builtin:resnet50",
              .backend = "",
              .seed = 1,
              .threads = 2,
              .ell = FSN_DEFAULT_ELL,
              .scale = FSN_DEFAULT_SCALE,
              .elements = 65536,
              .batch = 1,
              .image_input = true,
              .meetings = 1u << 21};
  static const struct option long_opts[] = {{"model", required_argument, NULL, 'm'},
                                            {"seed", required_argument, NULL, 'S'},
                                            {"ell", required_argument, NULL, 'l'},
                                            {"scale", required_argument, NULL, 's'},
                                            {"threads", required_argument, NULL, 't'},
                                            {"probe-elements", required_argument, NULL, 'E'},
                                            {"probe-meetings", required_argument, NULL, 'M'},
                                            {"layers", required_argument, NULL, 'L'},
                                            {"backend", required_argument, NULL, 'B'},
                                            {"linear-only", no_argument, NULL, 'O'},
                                            {"batch", required_argument, NULL, 'b'},
                                            {"ot", required_argument, NULL, 'o'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
  int c;
  bool ok = true;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
    switch (c) {
    case 'm': b.spec = optarg; break;
    case 'S': ok &= fsn_app_parse_uint(optarg, ~0ULL, &b.seed); break;
    case 'l': ok &= fsn_app_parse_uint(optarg, 64, &b.ell); break;
    case 's': ok &= fsn_app_parse_uint(optarg, 62, &b.scale); break;
    case 't': ok &= fsn_app_parse_uint(optarg, MAX_THREADS, &b.threads) && b.threads > 0; break;
    case 'E': ok &= fsn_app_parse_uint(optarg, 1ULL << 28, &b.elements) && b.elements > 0; break;
    case 'M': ok &= fsn_app_parse_uint(optarg, 1ULL << 32, &b.meetings) && b.meetings > 0; break;
    case 'L': b.only = optarg; break;
    case 'B': b.backend = optarg; break;
    case 'O': b.linear_only = true; break;
    case 'b': ok &= fsn_app_parse_uint(optarg, 1u << 16, &b.batch) && b.batch > 0; break;
    case 'o': b.ot = optarg, ok &= fsn_ot_pack_resolve(optarg) != NULL; break;
    case 'j': b.json = true; break;
    case 'h': return usage(stdout);
    default: return usage(stderr);
    }
  }
  if (!ok || optind != argc) return usage(stderr);
  if (!fsn_linear_backend_resolve(b.backend, (unsigned)b.ell)) {
    fprintf(stderr, "fusion bench model: unknown linear backend '%s'\n", b.backend);
    return 2;
  }
  fsn_status st = fsn_app_load_model(&b.m, b.spec, b.seed);
  if (st == FSN_OK) st = fsn_model_quantize(b.m, (unsigned)b.ell, (unsigned)b.scale);
  const size_t L = st == FSN_OK ? fsn_model_num_layers(b.m) : 0;
  if (st == FSN_OK && !(b.probes = calloc(L + 1, sizeof *b.probes))) st = fsn_fail(FSN_E_NOMEM, "probes");
  fsn_nn_plan *plan = NULL;
  if (st == FSN_OK) st = fsn_nn_plan_create(&plan, b.m);
  if (st != FSN_OK) {
    free(b.probes);
    fprintf(stderr, "fusion bench model: %s\n", fsn_last_error());
    fsn_model_destroy(b.m);
    return 1;
  }
  /* one probe per step of the executor's plan: a conv/fc and the ReLU fused with it are measured together */
  for (size_t i = 0; i < fsn_nn_plan_num_steps(plan); i++) {
    const fsn_nn_step *step = fsn_nn_plan_step(plan, i);
    probe *p = &b.probes[b.count];
    p->layer = step->layer;
    p->span = step->fused_relu ? 2 : 1;
    plan_probe(&b, p);
    b.count += (!b.only || listed(b.only, fsn_model_layer(b.m, p->layer)->desc.name)) && (!b.linear_only || p->linear);
  }
  fsn_nn_plan_destroy(plan);
  if (b.count == 0) {
    fprintf(stderr, "fusion bench model: no layer of %s is named in --layers %s\n", b.spec, b.only);
    free(b.probes);
    fsn_model_destroy(b.m);
    return 2;
  }
  int rc = fsn_bench_2p_run(b.threads, run_party, &b);
  if (rc == 0) b.json ? report_json(&b) : report_text(&b);
  free(b.probes);
  fsn_model_destroy(b.m);
  return rc;
}

/* ---- `fusion bench linear`: one conv or fc layer's linear protocol, measured whole ---- */

/* Weight meetings of the whole layer: out_c * in_c * (output position, kernel offset) pairs inside the input. */
static double layer_meetings(const fsn_layer *l) {
  const fsn_layer_desc *d = &l->desc;
  if (d->kind == FSN_LAYER_FC) return (double)l->in_shape.c * l->in_shape.h * l->in_shape.w * (double)d->out_c;
  double pairs = 0;
  for (size_t oh = 0; oh < l->out_shape.h; oh++)
    for (size_t kh = 0; kh < d->k_h; kh++) {
      const size_t ih = oh * max1(d->stride_h) + kh;
      if (ih < d->pad_h || ih >= d->pad_h + l->in_shape.h) continue;
      for (size_t ow = 0; ow < l->out_shape.w; ow++)
        for (size_t kw = 0; kw < d->k_w; kw++) {
          const size_t iw = ow * max1(d->stride_w) + kw;
          pairs += iw >= d->pad_w && iw < d->pad_w + l->in_shape.w;
        }
    }
  return pairs * (double)l->in_shape.c * (double)d->out_c;
}

/* The he backends' exact bytes for the layer (fsn_he_conv2d_cost), each way; he-packed allows packs of 2^6. */
static fsn_status he_formula(const bench *b, const fsn_layer *l, bool packed, double *c2s, double *s2c) {
  fsn_he_params par;
  fsn_he_layer_cost cost;
  fsn_status st = fsn_he_params_make(&par, (unsigned)b->ell);
  par.max_pack_k = packed ? 6 : 0;
  if (st == FSN_OK && l->desc.kind == FSN_LAYER_FC) {
    st = fsn_he_fc_cost(&par, b->batch, values(l->in_shape), l->desc.out_c, &cost);
  } else if (st == FSN_OK) {
    fsn_conv2d_shape s = group_shape(l, l->in_shape.c, l->desc.out_c, 1); /* bench linear: dense layers */
    s.batch = b->batch;
    st = fsn_he_conv2d_cost(&par, &s, &cost);
  }
  *c2s = st == FSN_OK ? (double)cost.client_bytes : 0, *s2c = st == FSN_OK ? (double)cost.server_bytes : 0;
  return st;
}

static void report_linear(const bench *b, const char *shape) {
  const probe *p = &b->probes[0];
  const part *lin = &p->lin_full;
  const fsn_layer *l = fsn_model_layer(b->m, 0);
  const char *backend = fsn_linear_backend_resolve(b->backend, (unsigned)b->ell)->name;
  const bool he = !strcmp(backend, "he") || !strcmp(backend, "he-packed");
  const double n = (double)b->batch * (double)values(l->in_shape), ell = (double)b->ell;
  const double bits = 8 * (lin->c2s + lin->s2c) / n;
  double formula = ell * 128 + layer_meetings(l) * ell * (ell + 1) / 2 / (double)values(l->in_shape);
  double f_c2s = 0, f_s2c = 0;
  if (he && he_formula(b, l, !strcmp(backend, "he-packed"), &f_c2s, &f_s2c) == FSN_OK)
    formula = 8 * (f_c2s + f_s2c) / n;
  const double rate = n / lin->seconds;
  if (b->json) {
    printf("{\"bench\": \"linear\", \"backend\": \"%s\", \"layer\": \"%s\", \"kind\": \"%s\", \"isa\": \"%s\", "
           "\"ell\": %llu, \"batch\": %llu, \"threads\": %llu, \"input_elements\": %.0f, \"seconds\": %.6f, "
           "\"elements_per_second\": %.0f, \"bits_per_element\": %.1f, \"formula_bits_per_element\": %.1f, "
           "\"bytes_client_to_server\": %.0f, \"bytes_server_to_client\": %.0f, \"rounds\": %.0f",
           backend, shape, fsn_layer_kind_name(l->desc.kind), fsn_isa_name(fsn_isa_active()), b->ell, b->batch,
           b->threads, n, lin->seconds, rate, bits, formula, lin->c2s, lin->s2c, lin->rounds);
    if (he)
      printf(", \"formula_bytes_client_to_server\": %.0f, \"formula_bytes_server_to_client\": %.0f", f_c2s, f_s2c);
    printf("}\n");
    return;
  }
  printf("linear %s %s, backend %s: 2 processes over loopback (both parties share this machine's cores), %llu "
         "thread(s) each, isa %s, ell %llu, batch %llu\n",
         fsn_layer_kind_name(l->desc.kind), shape, backend, b->threads, fsn_isa_name(fsn_isa_active()), b->ell,
         b->batch);
  printf("  %.0f input elements in %.3f s: %.0f per second\n", n, lin->seconds, rate);
  if (he)
    printf("  %.1f bits per input element both ways (formula: fsn_he_conv2d_cost, %.0f + %.0f bytes = %.1f)\n", bits,
           f_c2s, f_s2c, formula);
  else
    printf("  %.1f bits per input element both ways (formula: ell * 128 + meetings * ell (ell + 1) / 2 = %.1f)\n", bits,
           formula);
  printf("  client sent %.2f MiB, server sent %.2f MiB, %.0f rounds\n", lin->c2s / 1048576.0, lin->s2c / 1048576.0,
         lin->rounds);
}

static int linear_usage(FILE *out) {
  fprintf(out, "usage: fusion bench linear [--fc IN,OUT | --conv C,H,W,O,K[,STRIDE[,PAD]]] [--batch B] [--ell L]\n"
               "                           [--threads T] [--backend vcot|he|he-packed] [--json]\n"
               "  The linear protocol of one layer alone (default --conv 64,56,56,64,3,1,1, a ResNet 3x3 layer):\n"
               "  input elements per second, bits per input element beside the formula (he: its exact bytes),\n"
               "  bytes each way, rounds. --backend picks the protocol (default: the library's).\n");
  return out == stderr ? 2 : 0;
}

int fsn_bench_linear(int argc, char **argv) {
  static bench b;
  b = (bench){.spec = "linear",
              .backend = "",
              .seed = 1,
              .threads = 2,
              .ell = FSN_DEFAULT_ELL,
              .scale = FSN_DEFAULT_SCALE,
              .batch = 1,
              .linear_only = true};
  static const struct option long_opts[] = {{"fc", required_argument, NULL, 'f'},
                                            {"conv", required_argument, NULL, 'c'},
                                            {"batch", required_argument, NULL, 'b'},
                                            {"ell", required_argument, NULL, 'l'},
                                            {"threads", required_argument, NULL, 't'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"backend", required_argument, NULL, 'B'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
  const char *shape = "64,56,56,64,3,1,1";
  bool fc = false, ok = true;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
    switch (c) {
    case 'f': shape = optarg, fc = true; break;
    case 'c': shape = optarg, fc = false; break;
    case 'b': ok &= fsn_app_parse_uint(optarg, 1u << 20, &b.batch) && b.batch > 0; break;
    case 'l': ok &= fsn_app_parse_uint(optarg, 64, &b.ell) && b.ell >= 2 * b.scale + 2; break;
    case 't': ok &= fsn_app_parse_uint(optarg, MAX_THREADS, &b.threads) && b.threads > 0; break;
    case 'j': b.json = true; break;
    case 'B': b.backend = optarg; break;
    case 'h': return linear_usage(stdout);
    default: return linear_usage(stderr);
    }
  }
  size_t v[7] = {0, 0, 0, 0, 0, 1, 0};
  int got = fc ? sscanf(shape, "%zu,%zu", &v[0], &v[3])
               : sscanf(shape, "%zu,%zu,%zu,%zu,%zu,%zu,%zu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
  if (fc) v[1] = v[2] = v[4] = 1;
  if (!ok || optind != argc || got < (fc ? 2 : 5)) return linear_usage(stderr);
  if (!fsn_linear_backend_resolve(b.backend, (unsigned)b.ell)) {
    fprintf(stderr, "fusion bench linear: unknown linear backend '%s'\n", b.backend);
    return 2;
  }
  const fsn_layer_desc d = {.kind = fc ? FSN_LAYER_FC : FSN_LAYER_CONV,
                            .out_c = v[3],
                            .k_h = v[4],
                            .k_w = v[4],
                            .stride_h = v[5],
                            .stride_w = v[5],
                            .pad_h = v[6],
                            .pad_w = v[6]};
  fsn_status st = fsn_model_create(&b.m, v[0], v[1], v[2]);
  float *w = NULL;
  size_t nw = v[0] * v[3] * v[4] * v[4];
  if (st == FSN_OK && !(w = calloc(nw + 1, sizeof *w))) st = fsn_fail(FSN_E_NOMEM, "weights");
  if (st == FSN_OK) {
    fsn_layer_desc dw = d;
    dw.weight = w;
    st = fsn_model_add(b.m, &dw, NULL);
  }
  if (st == FSN_OK) st = fsn_model_quantize(b.m, (unsigned)b.ell, (unsigned)b.scale);
  free(w);
  static probe one;
  if (st != FSN_OK) {
    fprintf(stderr, "fusion bench linear: %s\n", fsn_last_error());
    fsn_model_destroy(b.m);
    return 1;
  }
  b.probes = &one, b.count = 1, b.elements = b.meetings = ~0ULL;
  plan_probe(&b, &one);
  int rc = fsn_bench_2p_run(b.threads, run_party, &b);
  if (rc == 0) report_linear(&b, shape);
  fsn_model_destroy(b.m);
  return rc;
}
