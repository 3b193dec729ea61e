/* cpuid + xgetbv detection, cached; the FSN_ISA override. Only the OS-enabled register state is trusted:
 * a CPU with AVX-512 under an OS that does not save zmm state is treated as avx2. */
#include <fusion/isa.h>

#include <cpuid.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const isa_names[FSN_ISA_COUNT] = {"ref", "avx2", "avx512"};

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static fsn_cpu_features detect(void) {
  fsn_cpu_features f = {0};
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse41 = c & bit_SSE4_1;
  f.aesni = c & bit_AES;
  f.pclmul = c & bit_PCLMUL;
  f.fma = c & bit_FMA;
  bool osxsave = c & bit_OSXSAVE;
  bool cpu_avx = c & bit_AVX;
  if (osxsave) {
    uint64_t xcr0 = xgetbv0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;               /* XMM | YMM */
    f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0; /* opmask | ZMM_Hi256 | Hi16_ZMM */
  }
  f.avx = cpu_avx && f.os_ymm;
  f.fma = f.fma && f.os_ymm;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = (b & bit_AVX2) && f.os_ymm;
    f.bmi2 = b & bit_BMI2;
    f.avx512f = (b & bit_AVX512F) && f.os_zmm;
    f.avx512bw = (b & bit_AVX512BW) && f.os_zmm;
    f.avx512vl = (b & bit_AVX512VL) && f.os_zmm;
    f.avx512dq = (b & bit_AVX512DQ) && f.os_zmm;
    f.avx512ifma = (b & bit_AVX512IFMA) && f.os_zmm;
    f.vaes = (c & bit_VAES) && f.os_ymm;
    f.vpclmulqdq = (c & bit_VPCLMULQDQ) && f.os_ymm;
    f.gfni = c & bit_GFNI;
  }
  return f;
}

static fsn_cpu_features features;
static atomic_int detected; /* 0: not yet, 1: in progress, 2: done */

const fsn_cpu_features *fsn_cpu(void) {
  int expect = 0;
  if (atomic_load_explicit(&detected, memory_order_acquire) == 2) return &features;
  if (atomic_compare_exchange_strong(&detected, &expect, 1)) {
    features = detect();
    atomic_store_explicit(&detected, 2, memory_order_release);
  } else {
    while (atomic_load_explicit(&detected, memory_order_acquire) != 2) {
    }
  }
  return &features;
}

unsigned fsn_cpu_feature_bits(void) {
  const fsn_cpu_features *f = fsn_cpu();
  const struct {
    bool has;
    unsigned bit;
  } map[] = {
      {f->sse41, FSN_CPU_SSE41},
      {f->aesni, FSN_CPU_AESNI},
      {f->pclmul, FSN_CPU_PCLMUL},
      {f->avx2, FSN_CPU_AVX2},
      {f->fma, FSN_CPU_FMA},
      {f->bmi2, FSN_CPU_BMI2},
      {f->avx512f, FSN_CPU_AVX512F},
      {f->avx512bw, FSN_CPU_AVX512BW},
      {f->avx512vl, FSN_CPU_AVX512VL},
      {f->avx512dq, FSN_CPU_AVX512DQ},
      {f->avx512ifma, FSN_CPU_AVX512IFMA},
      {f->vaes, FSN_CPU_VAES},
      {f->vpclmulqdq, FSN_CPU_VPCLMULQDQ},
      {f->gfni, FSN_CPU_GFNI},
  };
  unsigned bits = 0;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) bits |= map[i].has ? map[i].bit : 0;
  return bits;
}

fsn_isa fsn_isa_best(void) {
  unsigned have = fsn_cpu_feature_bits();
  if ((have & FSN_CPU_LEVEL_AVX512) == FSN_CPU_LEVEL_AVX512) return FSN_ISA_AVX512;
  if ((have & FSN_CPU_LEVEL_AVX2) == FSN_CPU_LEVEL_AVX2) return FSN_ISA_AVX2;
  return FSN_ISA_REF;
}

const char *fsn_isa_name(fsn_isa isa) { return (unsigned)isa < FSN_ISA_COUNT ? isa_names[isa] : "?"; }

fsn_status fsn_isa_parse(const char *name, fsn_isa *out) {
  for (int i = 0; i < FSN_ISA_COUNT; i++) {
    if (name && strcmp(name, isa_names[i]) == 0) {
      *out = (fsn_isa)i;
      return FSN_OK;
    }
  }
  return fsn_fail(FSN_E_INVALID, "unknown ISA level '%s' (expected ref, avx2 or avx512)", name ? name : "");
}

/* -1 until resolved; then the active level. Resolution is idempotent, so a race only repeats it. */
static atomic_int active = -1;

/* Resolve FSN_ISA against the machine; on failure *isa is the best level. */
static fsn_status resolve(fsn_isa *isa) {
  *isa = fsn_isa_best();
  const char *env = getenv("FSN_ISA");
  if (!env || !*env) return FSN_OK;
  fsn_isa want;
  fsn_status st = fsn_isa_parse(env, &want);
  if (st != FSN_OK) return fsn_fail(st, "FSN_ISA=%s is not a level (expected ref, avx2 or avx512)", env);
  if (want > *isa)
    return fsn_fail(FSN_E_UNSUPPORTED, "FSN_ISA=%s is not supported by this machine (best level: %s)", env,
                    fsn_isa_name(*isa));
  *isa = want;
  return FSN_OK;
}

fsn_isa fsn_isa_active(void) {
  int level = atomic_load_explicit(&active, memory_order_acquire);
  if (level >= 0) return (fsn_isa)level;
  fsn_isa isa;
  if (resolve(&isa) != FSN_OK) fprintf(stderr, "fusion: warning: %s; using %s\n", fsn_last_error(), fsn_isa_name(isa));
  int expect = -1;
  atomic_compare_exchange_strong(&active, &expect, (int)isa);
  return (fsn_isa)atomic_load(&active);
}

fsn_status fsn_isa_force(fsn_isa isa) {
  if ((unsigned)isa >= FSN_ISA_COUNT) return fsn_fail(FSN_E_INVALID, "ISA level %d out of range", (int)isa);
  if (isa > fsn_isa_best())
    return fsn_fail(FSN_E_UNSUPPORTED, "ISA level %s is not supported by this machine (best level: %s)",
                    fsn_isa_name(isa), fsn_isa_name(fsn_isa_best()));
  atomic_store(&active, (int)isa);
  return FSN_OK;
}

fsn_status fsn_init(void) {
  if (sodium_init() < 0) return fsn_fail(FSN_E_CRYPTO, "libsodium failed to initialise");
  fsn_isa isa;
  fsn_status st = resolve(&isa);
  if (st != FSN_OK) return st;
  atomic_store(&active, (int)isa);
  for (size_t i = 0; i < fsn_isa_family_count(); i++) fsn_isa_family_variant(i); /* choose every variant now */
  return FSN_OK;
}
