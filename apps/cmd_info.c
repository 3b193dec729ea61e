/* `fusion info`: what the machine offers, what the library chose, how it was built, and the parameters of the default
 * linear backend (he: the RLWE parameter set and its security). */
#include <fusion/fusion.h>
#include <fusion/he.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"
#include "apps/common.h"

/* The CPU's model name (Linux /proc/cpuinfo), or "unknown". */
static void cpu_model(char *out, size_t cap) {
  snprintf(out, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    const char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) || !colon) continue;
    snprintf(out, cap, "%s", colon + 1 + (colon[1] == ' '));
    out[strcspn(out, "\n")] = 0;
    break;
  }
  fclose(f);
}

/* The he parameter set at the default ell and what its flooding buys: the statistical distance per output
 * coefficient, H / (2F + 1), for ResNet-50's widest filter (3 x 3 x 512 weights) with every weight at full width
 * 2^(ell-1) and with fixed-point weights |w| <= 2^(s+1) (docs/SECURITY.md). */
typedef struct he_info {
  fsn_he_params par;
  double fan, flood, log2_q, stat_full, stat_fixed;
} he_info;

static fsn_status he_info_make(he_info *h) {
  *h = (he_info){.fan = 3 * 3 * 512};
  fsn_status st = fsn_he_params_make(&h->par, FSN_DEFAULT_ELL);
  double honest;
  if (st == FSN_OK) st = fsn_he_flooding(&h->par, h->fan, &honest, &h->flood);
  if (st != FSN_OK) return st;
  const double w1 = h->fan * ldexp(1, FSN_DEFAULT_SCALE + 1); /* fsn_he_flooding's bound with |w| <= 2^(s+1) */
  const double fixed = FSN_HE_ETA * w1 + w1 / 2 + 2 + FSN_HE_ETA * (2.0 * h->par.n + 1);
  h->log2_q = log2((double)h->par.p1) + log2((double)h->par.p2);
  h->stat_full = log2(honest / (2 * h->flood + 1)), h->stat_fixed = log2(fixed / (2 * h->flood + 1));
  return FSN_OK;
}

static const char *const he_security = "128-bit classical, HomomorphicEncryption.org standard (2018), Table 1: "
                                       "log2 q <= 109 at N = 4096, ternary secret, error sd ~3.2";

static void print_text(const char *model) {
  printf("cpu: %s\n", model);
  he_info h;
  if (he_info_make(&h) != FSN_OK) {
    printf("he parameters: unavailable (%s)\n", fsn_last_error());
    return;
  }
  printf("default linear backend: %s (ell = %d; vcot stays selectable with --backend vcot)\n",
         fsn_linear_backend_default(FSN_DEFAULT_ELL)->name, FSN_DEFAULT_ELL);
  printf("he parameters: N = %u, q = p1 p2 with p1 = %llu, p2 = %llu (log2 q = %.2f), t = 2^%u (ell <= %d), "
         "dropped bits c0/c1 = %u/%u\n",
         h.par.n, (unsigned long long)h.par.p1, (unsigned long long)h.par.p2, h.log2_q, h.par.ell, FSN_HE_MAX_ELL,
         h.par.drop_c0, h.par.drop_c1);
  printf("he security: %s\n", he_security);
  printf("he flooding: half-width 2^%.1f; statistical distance per output coefficient (fan %.0f) 2^%.1f with weights "
         "|w| <= 2^%d, 2^%.1f at full width 2^%d (docs/SECURITY.md)\n",
         log2(h.flood), h.fan, h.stat_fixed, FSN_DEFAULT_SCALE + 1, h.stat_full, FSN_DEFAULT_ELL - 1);
}

static void print_json(const char *model, const fsn_cpu_features *f, const char *const *names, const size_t *offsets,
                       size_t nflags) {
  printf("{\"version\": \"%s\", \"build\": \"%s\", \"sanitize\": \"%s\", \"openmp\": %s, \"cpu\": ", FSN_VERSION,
         FSN_BUILD_TYPE, FSN_BUILD_SANITIZE, FSN_HAVE_OPENMP ? "true" : "false");
  fsn_app_json_string(stdout, model);
  printf(", \"cpu_features\": [");
  for (size_t i = 0, k = 0; i < nflags; i++)
    if (*(const bool *)((const char *)f + offsets[i])) printf("%s\"%s\"", k++ ? ", " : "", names[i]);
  printf("], \"best_level\": \"%s\", \"active_level\": \"%s\", \"kernel_variants\": {", fsn_isa_name(fsn_isa_best()),
         fsn_isa_name(fsn_isa_active()));
  for (size_t i = 0; i < fsn_isa_family_count(); i++)
    printf("%s\"%s\": \"%s\"", i ? ", " : "", fsn_isa_family_name(i), fsn_isa_family_variant(i));
  printf("}, \"default_linear_backend\": \"%s\"", fsn_linear_backend_default(FSN_DEFAULT_ELL)->name);
  he_info h;
  if (he_info_make(&h) == FSN_OK)
    printf(", \"he\": {\"n\": %u, \"ell\": %u, \"max_ell\": %d, \"t_log2\": %u, \"primes\": [%llu, %llu], "
           "\"log2_q\": %.4f, \"dropped_bits_c0\": %u, \"dropped_bits_c1\": %u, \"error_eta\": %d, "
           "\"security_bits\": 128, \"security_reference\": \"%s\", \"flooding_half_width_log2\": %.2f, "
           "\"flooding_fan\": %.0f, \"stat_distance_log2_fixed_point_weights\": %.2f, "
           "\"stat_distance_log2_full_width_weights\": %.2f}",
           h.par.n, h.par.ell, FSN_HE_MAX_ELL, h.par.ell, (unsigned long long)h.par.p1, (unsigned long long)h.par.p2,
           h.log2_q, h.par.drop_c0, h.par.drop_c1, FSN_HE_ETA, he_security, log2(h.flood), h.fan, h.stat_fixed,
           h.stat_full);
  printf("}\n");
}

int fsn_cmd_info(int argc, char **argv) {
  const bool json = argc == 2 && !strcmp(argv[1], "--json");
  if (argc > 1 && !json) {
    fprintf(stderr, "usage: fusion info [--json]\n");
    return 2;
  }
  const fsn_cpu_features *f = fsn_cpu();
#define FLAG(x) #x
  static const char *const names[] = {
      FLAG(sse41), FLAG(aesni),      FLAG(pclmul),   FLAG(avx),      FLAG(avx2),     FLAG(fma),
      FLAG(bmi2),  FLAG(avx512f),    FLAG(avx512bw), FLAG(avx512vl), FLAG(avx512dq), FLAG(avx512ifma),
      FLAG(vaes),  FLAG(vpclmulqdq), FLAG(gfni),     FLAG(os_ymm),   FLAG(os_zmm),
  };
#undef FLAG
#define FLAG(x) offsetof(fsn_cpu_features, x)
  static const size_t offsets[] = {
      FLAG(sse41), FLAG(aesni),      FLAG(pclmul),   FLAG(avx),      FLAG(avx2),     FLAG(fma),
      FLAG(bmi2),  FLAG(avx512f),    FLAG(avx512bw), FLAG(avx512vl), FLAG(avx512dq), FLAG(avx512ifma),
      FLAG(vaes),  FLAG(vpclmulqdq), FLAG(gfni),     FLAG(os_ymm),   FLAG(os_zmm),
  };
#undef FLAG
  const size_t nflags = sizeof names / sizeof names[0];
  char model[256];
  cpu_model(model, sizeof model);
  if (json) {
    print_json(model, f, names, offsets, nflags);
    return 0;
  }
  printf("fusion %s (build: %s, sanitize: %s, openmp: %s)\n", FSN_VERSION, FSN_BUILD_TYPE, FSN_BUILD_SANITIZE,
         FSN_HAVE_OPENMP ? "yes" : "no");
  printf("cpu features:");
  for (size_t i = 0; i < nflags; i++)
    if (*(const bool *)((const char *)f + offsets[i])) printf(" %s", names[i]);
  printf("\ncpu lacks:   ");
  for (size_t i = 0; i < nflags; i++)
    if (!*(const bool *)((const char *)f + offsets[i])) printf(" %s", names[i]);
  printf("\nbest level:   %s\nactive level: %s%s\n", fsn_isa_name(fsn_isa_best()), fsn_isa_name(fsn_isa_active()),
         fsn_isa_active() != fsn_isa_best() ? " (forced by FSN_ISA)" : "");
  printf("kernel variants:");
  for (size_t i = 0; i < fsn_isa_family_count(); i++)
    printf(" %s=%s", fsn_isa_family_name(i), fsn_isa_family_variant(i));
  printf("\n");
  print_text(model);
  return 0;
}
