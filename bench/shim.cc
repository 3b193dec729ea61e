// The only C++ in the project: hands C benchmark bodies to Google Benchmark.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "bench/bench.h"

struct fsn_bench_state {
  benchmark::State *gb;
};

extern "C" {

void fsn_bench_add(const char *name, fsn_bench_fn fn, fsn_bench_args args, unsigned flags) {
  auto *b = benchmark::RegisterBenchmark(name, [fn, args](benchmark::State &gb) {
    fsn_bench_state st{&gb};
    fn(&st, &args);
  });
  if (flags & FSN_BENCH_REAL_TIME) b->UseRealTime();
  if (flags & FSN_BENCH_MANUAL_TIME) b->UseManualTime();
}

void fsn_bench_add_variants(const char *family_op, fsn_bench_fn fn, fsn_bench_args args, unsigned flags,
                            const char *size, const fsn_variant *first, size_t stride, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fsn_variant id = *reinterpret_cast<const fsn_variant *>(reinterpret_cast<const char *>(first) + i * stride);
    if (!fsn_variant_runs(id, fsn_isa_active())) continue;
    args.variant = i;
    std::string name = std::string(family_op) + "/" + fsn_variant_name(id);
    if (size) name += std::string("/") + size;
    fsn_bench_add(name.c_str(), fn, args, flags);
  }
}

bool fsn_bench_running(fsn_bench_state *st) { return st->gb->KeepRunning(); }
void fsn_bench_pause(fsn_bench_state *st) { st->gb->PauseTiming(); }
void fsn_bench_resume(fsn_bench_state *st) { st->gb->ResumeTiming(); }
void fsn_bench_manual_time(fsn_bench_state *st, double seconds) { st->gb->SetIterationTime(seconds); }
void fsn_bench_bytes_per_iter(fsn_bench_state *st, double bytes) {
  st->gb->SetBytesProcessed(static_cast<int64_t>(bytes * static_cast<double>(st->gb->iterations())));
}
void fsn_bench_items_per_iter(fsn_bench_state *st, double items) {
  st->gb->SetItemsProcessed(static_cast<int64_t>(items * static_cast<double>(st->gb->iterations())));
}
void fsn_bench_counter(fsn_bench_state *st, const char *name, double value) { st->gb->counters[name] = value; }
void fsn_bench_skip(fsn_bench_state *st, const char *why) { st->gb->SkipWithError(why); }

} // extern "C"

int main(int argc, char **argv) {
  if (fsn_init() != FSN_OK) {
    std::fprintf(stderr, "fusion-bench: %s\n", fsn_last_error());
    return 2;
  }
#define FSN_BENCH_FAMILY(folder, prefix)                                                                               \
  if (fsn_bench_register_##folder) fsn_bench_register_##folder();
  FSN_KERNEL_FAMILIES(FSN_BENCH_FAMILY)
#undef FSN_BENCH_FAMILY
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
