// WebSocket masking throughput: nnghttp::detail::ws::apply_mask (16-byte
// vectors, four per iteration) against a byte-at-a-time loop compiled with
// vectorisation off, and against the same loop as NNG 1.x writes it
// (buf[i] ^= mask[i % 4]) left to the compiler.  Payloads start one byte
// into the mask (a rotated key) and one byte off alignment, as the middle
// of a payload split across reads does.  After the usual table it prints,
// per size, the byte loop's time over apply_mask's.  Not a test.
//
//   build/bench/bench/mask_bench
#include "websocket/mask.hpp"

#include <benchmark/benchmark.h>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

using nnghttp::detail::ws::mask_key;

const mask_key key = {0x37, 0xfa, 0x21, 0x3d};

// One byte at a time, as a baseline that no compiler widens.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
void byte_loop(char* p, std::size_t n, const mask_key& k, std::size_t offset) {
#if defined(__clang__)
#pragma clang loop vectorize(disable) interleave(disable)
#endif
    for (std::size_t i = 0; i < n; i++) {
        p[i] = char(std::uint8_t(p[i]) ^ k[(offset + i) & 3]);
    }
}

// NNG 1.x's loop shape, vectorised or not as the compiler pleases.
void nng_loop(char* p, std::size_t n, const mask_key& k, std::size_t offset) {
    for (std::size_t i = 0; i < n; i++) {
        p[i] = char(std::uint8_t(p[i]) ^ k[(offset + i) % 4]);
    }
}

template <void (*F)(char*, std::size_t, const mask_key&, std::size_t)>
void run(benchmark::State& state) {
    const auto n = std::size_t(state.range(0));
    std::vector<char> buf(n + 1, 'x');
    for (auto _ : state) {
        F(buf.data() + 1, n, key, 1);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations() * n));
}

void apply(char* p, std::size_t n, const mask_key& k, std::size_t offset) {
    nnghttp::detail::ws::apply_mask(p, n, k, offset);
}

void BM_mask_byte_loop(benchmark::State& s) {
    run<byte_loop>(s);
}
void BM_mask_nng_loop(benchmark::State& s) {
    run<nng_loop>(s);
}
void BM_mask_apply_mask(benchmark::State& s) {
    run<apply>(s);
}

constexpr std::int64_t sizes[] = {16, 125, 1500, 16384, 1 << 20};

void sized(benchmark::internal::Benchmark* b) {
    for (std::int64_t n : sizes) {
        b->Arg(n);
    }
}

BENCHMARK(BM_mask_byte_loop)->Apply(sized);
BENCHMARK(BM_mask_nng_loop)->Apply(sized);
BENCHMARK(BM_mask_apply_mask)->Apply(sized);

// Keeps each run's time per iteration while printing the usual table.
class collector : public benchmark::ConsoleReporter {
  public:
    std::map<std::string, double> ns;
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& r : runs) {
            if (r.run_type == Run::RT_Iteration) {
                ns[r.benchmark_name()] = r.GetAdjustedRealTime();
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    collector c;
    benchmark::RunSpecifiedBenchmarks(&c);
    benchmark::Shutdown();
    std::printf("\n%9s %14s %14s %14s %12s %12s\n", "bytes", "byte loop ns", "NNG loop ns",
                "apply_mask ns", "byte/apply", "NNG/apply");
    // Names built with snprintf: GCC 12 at -O3 warns falsely (-Wrestrict)
    // about string concatenation here.
    auto time_of = [&](const char* bm, std::int64_t n) {
        char name[64];
        std::snprintf(name, sizeof name, "%s/%lld", bm, static_cast<long long>(n));
        return c.ns.find(name);
    };
    for (std::int64_t n : sizes) {
        const auto b = time_of("BM_mask_byte_loop", n);
        const auto g = time_of("BM_mask_nng_loop", n);
        const auto a = time_of("BM_mask_apply_mask", n);
        if (b == c.ns.end() || g == c.ns.end() || a == c.ns.end()) {
            continue; // filtered out
        }
        std::printf("%9lld %14.1f %14.1f %14.1f %11.1fx %11.1fx\n", static_cast<long long>(n),
                    b->second, g->second, a->second, b->second / a->second, g->second / a->second);
    }
    return 0;
}
