// Deterministic random numbers for the population generator.
//
// Every stream is keyed by what it is for (seed, region, patient index, purpose), never by
// the order in which threads reach it, so output is byte-identical for a seed whatever the
// thread count. xoshiro256** (Blackman and Vigna, public domain algorithm) seeded through
// splitmix64.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>

namespace ehr::synth {

inline uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A key from several parts: Mix(seed, region, index, purpose).
inline uint64_t Mix(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0) {
  uint64_t s = a;
  uint64_t h = SplitMix(s);
  s = h ^ b;
  h = SplitMix(s);
  s = h ^ c;
  h = SplitMix(s);
  s = h ^ d;
  return SplitMix(s);
}

// FNV-1a of a purpose name, for keys.
constexpr uint64_t Tag(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t key) {
    for (uint64_t& word : s_) word = SplitMix(key);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n); n > 0. Lemire's multiply-shift (bias below 2^-32 for our n).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) { return hi <= lo ? lo : lo + static_cast<int>(Below(static_cast<uint32_t>(hi - lo + 1))); }
  // Uniform in [0, 1).
  double Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Real() < p; }
  // Approximately normal (the sum of twelve uniforms, tails cut at six deviations). Only
  // IEEE basic arithmetic, never libm's log or cos, whose last bits differ between CPUs (glibc picks
  // FMA or plain versions of log and cos at run time): output must be the same bytes on
  // every machine.
  double Normal(double mean, double sd) {
    double sum = -6.0;
    for (int i = 0; i < 12; ++i) sum += Real();
    return mean + sd * sum;
  }
  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Below(static_cast<uint32_t>(items.size()))];
  }
  // Index drawn with weights about 1/sqrt(i+1): lists are ordered most common first.
  // Inverse transform of a power law on [1, n+1], x = (1 + u(sqrt(n+1) - 1))^2, with
  // sqrt (exactly rounded by IEEE 754, the same on every CPU) and basic arithmetic. Of
  // ~190 surnames the first is drawn ~3% of the time (Smith is 1.3% of the UK, Muller 1%
  // of Germany; the lists hold only the commonest names).
  size_t Ranked(size_t n) {
    const double y = 1.0 + Real() * (std::sqrt(static_cast<double>(n) + 1.0) - 1.0);
    const size_t i = static_cast<size_t>(y * y) - 1;
    return i < n ? i : n - 1;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace ehr::synth
