/* `fusion info`: what the machine offers, what the library chose, how it was built. */
#include <fusion/fusion.h>

#include <stdio.h>
#include <string.h>

#include "apps/commands.h"

int fsn_cmd_info(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "usage: fusion info   (no arguments)\n");
    return 2;
  }
  const fsn_cpu_features *f = fsn_cpu();
  static const struct {
    const char *name;
    size_t offset;
  } flags[] = {
#define FLAG(x) {#x, offsetof(fsn_cpu_features, x)}
      FLAG(sse41), FLAG(aesni),      FLAG(pclmul),   FLAG(avx),      FLAG(avx2),     FLAG(fma),
      FLAG(bmi2),  FLAG(avx512f),    FLAG(avx512bw), FLAG(avx512vl), FLAG(avx512dq), FLAG(avx512ifma),
      FLAG(vaes),  FLAG(vpclmulqdq), FLAG(gfni),     FLAG(os_ymm),   FLAG(os_zmm),
#undef FLAG
  };
  printf("fusion %s (build: %s, sanitize: %s, openmp: %s)\n", FSN_VERSION, FSN_BUILD_TYPE, FSN_BUILD_SANITIZE,
         FSN_HAVE_OPENMP ? "yes" : "no");
  printf("cpu features:");
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (*(const bool *)((const char *)f + flags[i].offset)) printf(" %s", flags[i].name);
  printf("\ncpu lacks:   ");
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (!*(const bool *)((const char *)f + flags[i].offset)) printf(" %s", flags[i].name);
  printf("\nbest level:   %s\nactive level: %s%s\n", fsn_isa_name(fsn_isa_best()), fsn_isa_name(fsn_isa_active()),
         fsn_isa_active() != fsn_isa_best() ? " (forced by FSN_ISA)" : "");
  printf("kernel variants:");
  for (size_t i = 0; i < fsn_kernel_family_count(); i++)
    printf(" %s=%s", fsn_kernel_family_name(i), fsn_kernel_family_variant(i));
  printf("\n");
  return 0;
}
