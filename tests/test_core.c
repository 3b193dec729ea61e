/* Core: status strings, error details, ISA names and the forced level. */
#include <stdlib.h>
#include <string.h>

#include "tests/common/fsn_test.h"

START_TEST(status_strings) {
  ck_assert_str_eq(fsn_strerror(FSN_OK), "success");
  ck_assert_str_eq(fsn_strerror(FSN_E_CLOSED), "peer closed the connection");
  ck_assert_str_eq(fsn_strerror((fsn_status)-999), "unknown status");
  ck_assert_int_eq(fsn_fail(FSN_E_PROTOCOL, "frame %d too long", 7), FSN_E_PROTOCOL);
  ck_assert_str_eq(fsn_last_error(), "frame 7 too long");
}
END_TEST

START_TEST(isa_names_round_trip) {
  for (int i = 0; i < FSN_ISA_COUNT; i++) {
    fsn_isa isa;
    ck_assert_int_eq(fsn_isa_parse(fsn_isa_name((fsn_isa)i), &isa), FSN_OK);
    ck_assert_int_eq(isa, i);
  }
  fsn_isa isa;
  ck_assert_int_eq(fsn_isa_parse("sse9", &isa), FSN_E_INVALID);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "sse9"));
}
END_TEST

START_TEST(active_level_honours_environment) {
  const char *env = getenv("FSN_ISA");
  fsn_isa want = fsn_isa_best();
  if (env) ck_assert_int_eq(fsn_isa_parse(env, &want), FSN_OK);
  ck_assert_int_eq(fsn_isa_active(), want);
  ck_assert_int_le(fsn_isa_active(), fsn_isa_best());
}
END_TEST

START_TEST(forcing_a_missing_level_is_an_error) {
  if (fsn_isa_best() == FSN_ISA_AVX512) return; /* nothing to be missing */
  ck_assert_int_eq(fsn_isa_force(FSN_ISA_AVX512), FSN_E_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fsn_last_error(), "not supported"));
  ck_assert_int_eq(fsn_isa_force(FSN_ISA_REF), FSN_OK);
  ck_assert_int_eq(fsn_isa_active(), FSN_ISA_REF);
}
END_TEST

START_TEST(features_are_consistent) {
  const fsn_cpu_features *f = fsn_cpu();
  if (f->avx2) ck_assert(f->os_ymm);
  if (f->avx512f) ck_assert(f->os_zmm);
  if (fsn_isa_best() >= FSN_ISA_AVX2) ck_assert(f->avx2 && f->aesni);
}
END_TEST

int main(void) {
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, status_strings);
  tcase_add_test(tc, isa_names_round_trip);
  tcase_add_test(tc, active_level_honours_environment);
  tcase_add_test(tc, forcing_a_missing_level_is_an_error);
  tcase_add_test(tc, features_are_consistent);
  suite_add_tcase(s, tc);
  return fsn_test_main(s);
}
