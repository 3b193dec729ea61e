/* kernels/cpu.c as it is, plus one change for run.sh: on a host with the avx2 level, the detected features also claim
 * AVX-512 F/BW/VL/DQ with the zmm state enabled, AVX-512 IFMA and VAES, so the best level is avx512 and every variant
 * of kernels/variants.h runs: dispatch (FSN_ISA=avx512, the protocols' kernel calls, fsn_isa_force) and the
 * differential tests reach every variant. run.sh links this object in place of the archive's cpu.c member, and the
 * variant files beyond the host's avx2 level (*_avx512*.c, *_avx2_vaes.c) compiled against the stand-in intrinsics in
 * place of the real ones, so only the avx2 variants run real instructions. FSN_EMU_NO_VAES in the environment clears
 * VAES, for an AVX-512 CPU without it (Skylake-SP): dispatch must then never reach a VAES variant, and the stand-in
 * VAES intrinsics trap if it does, as the instructions fault. Compiled against the real system headers, not the
 * stand-ins. */
#include "kernels/cpu.c"

__attribute__((constructor)) static void emu_claim_avx512(void) {
  fsn_cpu(); /* detect the host first; nothing else runs yet, so no thread sees the change half done */
  if (fsn_isa_best() < FSN_ISA_AVX2) return;
  features.os_zmm = features.avx512f = features.avx512bw = features.avx512vl = features.avx512dq = true;
  features.avx512ifma = true;
  features.vaes = !getenv("FSN_EMU_NO_VAES");
}

int fsn_emu_vaes(void); /* for the stand-in VAES intrinsics, which trap without the feature */
int fsn_emu_vaes(void) { return fsn_cpu()->vaes; }
