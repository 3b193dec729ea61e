/* kernels/cpu.c as it is, plus one change for run.sh: on a host with the avx2 level, the detected features also claim
 * AVX-512 F/BW/VL/DQ and IFMA with the zmm state enabled, so the best level is avx512 and everything dispatched
 * (FSN_ISA=avx512, the protocols' kernel calls, fsn_isa_force) goes through the avx512 tables. run.sh links this object
 * in place of the archive's cpu.c member, and the kernels compiled against the stand-in intrinsics in place of the real
 * AVX-512 ones, so those tables reach only emulated code. Other features (VAES among them) stay the host's, since the
 * avx2 paths the tests also run are real instructions; FSN_EMU_NO_VAES in the environment clears VAES, for an AVX-512
 * CPU without it (then the stand-in VAES intrinsics trap, as the instructions fault). Compiled against the real system
 * headers, not the stand-ins. */
#include "kernels/cpu.c"

__attribute__((constructor)) static void emu_claim_avx512(void) {
  fsn_cpu(); /* detect the host first; nothing else runs yet, so no thread sees the change half done */
  if (fsn_isa_best() < FSN_ISA_AVX2) return;
  features.os_zmm = features.avx512f = features.avx512bw = features.avx512vl = features.avx512dq = true;
  if (getenv("FSN_EMU_NO_VAES")) features.vaes = false; /* an AVX-512 CPU without VAES, as Skylake-SP */
  features.avx512ifma = !getenv("FSN_EMU_NO_IFMA");     /* IFMA (Ice Lake on), unless asked to run without */
}

int fsn_emu_vaes(void); /* for the stand-in VAES intrinsics, which trap without the feature */
int fsn_emu_vaes(void) { return fsn_cpu()->vaes; }
