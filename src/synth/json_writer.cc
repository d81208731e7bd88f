#include "synth/json_writer.h"

#include <charconv>
#include <algorithm>
#include <cmath>
#include <cstring>

namespace ehr::synth {

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  const uint64_t bit = uint64_t{1} << (depth_ - 1);
  if (filled_ & bit) out_.push_back(',');
  filled_ |= bit;
}

JsonWriter& JsonWriter::Open(char bracket) {
  Separate();
  out_.push_back(bracket);
  closers_[depth_] = bracket == '{' ? '}' : ']';
  ++depth_;
  filled_ &= ~(uint64_t{1} << (depth_ - 1));
  return *this;
}

JsonWriter& JsonWriter::End() {
  --depth_;
  out_.push_back(closers_[depth_]);
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  out_.push_back('"');
  out_.append(key);  // keys are element names: never need escaping
  out_.append("\":");
  after_key_ = true;
  return *this;
}

namespace {

// Whether any of the 8 bytes in `w` may need escaping: below 0x20, '"' or '\\'. False
// positives (from borrows, or bytes of UTF-8 sequences) only send a block to the slow path.
inline bool MayNeedEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  const uint64_t control = (w - kOnes * 0x20) & ~w;
  return (control | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}

void AppendEscaped(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out.append("\\\""); break;
    case '\\': out.append("\\\\"); break;
    case '\n': out.append("\\n"); break;
    case '\t': out.append("\\t"); break;
    case '\r': out.append("\\r"); break;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

}  // namespace

JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  out_.push_back('"');
  const char* p = value.data();
  const size_t n = value.size();
  size_t plain = 0;  // start of the run not yet appended
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!MayNeedEscape(w)) {
        i += 8;
        continue;
      }
    }
    const size_t block_end = std::min(n, i + 8);
    for (; i < block_end; ++i) {
      const unsigned char c = static_cast<unsigned char>(p[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(p + plain, i - plain);
      AppendEscaped(out_, c);
      plain = i + 1;
    }
  }
  out_.append(p + plain, n - plain);
  out_.push_back('"');
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::Decimal(double value, int decimals) {
  Separate();
  static constexpr double kScale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  if (decimals < 0) decimals = 0;
  if (decimals > 6) decimals = 6;
  const int64_t scaled = std::llround(value * kScale[decimals]);
  int64_t whole = scaled / static_cast<int64_t>(kScale[decimals]);
  int64_t frac = scaled % static_cast<int64_t>(kScale[decimals]);
  if (scaled < 0) {
    out_.push_back('-');
    whole = -whole;
    frac = -frac;
  }
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, whole);
  out_.append(buf, end);
  if (decimals > 0) {
    out_.push_back('.');
    char digits[8];
    for (int i = decimals - 1; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    out_.append(digits, decimals);
  }
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_.append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Reference(std::string_view key, std::string_view reference) {
  return Key(key).Reference(reference);
}

JsonWriter& JsonWriter::Reference(std::string_view reference) {
  return Object().Field("reference", reference).End();
}

JsonWriter& JsonWriter::Coding(std::string_view system, std::string_view code, std::string_view display) {
  Object().Field("system", system).Field("code", code);
  if (!display.empty()) Field("display", display);
  return End();
}

JsonWriter& JsonWriter::Concept(std::string_view key, std::string_view system, std::string_view code,
                                std::string_view display) {
  return Key(key).Concept(system, code, display);
}

JsonWriter& JsonWriter::Concept(std::string_view system, std::string_view code, std::string_view display) {
  return Object().Array("coding").Coding(system, code, display).End().End();
}

}  // namespace ehr::synth
