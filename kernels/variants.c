/* Variant metadata and the choice dispatch makes once per family and level (see kernels/variants.h). */
#include "kernels/variants.h"

#include "kernels/families.h"

static const struct {
  const char *name;
  fsn_isa level;
  unsigned needs;
} variants[FSN_VARIANT_COUNT] = {
#define FSN_VARIANT_INFO(v, lvl, features) {#v, lvl, features},
    FSN_KERNEL_VARIANTS(FSN_VARIANT_INFO)
#undef FSN_VARIANT_INFO
};

const char *fsn_variant_name(fsn_variant v) { return (unsigned)v < FSN_VARIANT_COUNT ? variants[v].name : "?"; }

bool fsn_variant_runs(fsn_variant v, fsn_isa level) {
  return (unsigned)v < FSN_VARIANT_COUNT && variants[v].level <= level &&
         (variants[v].needs & ~fsn_cpu_feature_bits()) == 0;
}

size_t fsn_variant_pick(const fsn_variant *first, size_t stride, size_t n, fsn_isa level) {
  size_t best = 0;
  for (size_t i = 0; i < n; i++)
    if (fsn_variant_runs(*(const fsn_variant *)(const void *)((const char *)first + i * stride), level)) best = i;
  return best;
}

/* The family list, for reports: each family's dispatch file defines fsn_<prefix>_variant_chosen. */
#define FSN_FAMILY_CHOSEN_PROTO(folder, prefix) const char *fsn_##prefix##_variant_chosen(fsn_isa level);
FSN_KERNEL_FAMILIES(FSN_FAMILY_CHOSEN_PROTO)
#undef FSN_FAMILY_CHOSEN_PROTO

static const struct {
  const char *name;
  const char *(*chosen)(fsn_isa level);
} families[] = {
#define FSN_FAMILY_ENTRY(folder, prefix) {#folder, fsn_##prefix##_variant_chosen},
    FSN_KERNEL_FAMILIES(FSN_FAMILY_ENTRY)
#undef FSN_FAMILY_ENTRY
};

size_t fsn_isa_family_count(void) { return sizeof families / sizeof families[0]; }

const char *fsn_isa_family_name(size_t i) { return i < fsn_isa_family_count() ? families[i].name : "?"; }

const char *fsn_isa_family_variant(size_t i) {
  return i < fsn_isa_family_count() ? families[i].chosen(fsn_isa_active()) : "?";
}
