#include "search/normalize.h"

#include <array>
#include <cstdint>
#include <vector>

#include <utf8proc.h>

namespace ehr::search {
namespace {

// CASEFOLD gives ß -> ss; COMPAT|DECOMPOSE splits é into e + U+0301 and ligatures into
// letters, STRIPMARK then drops the combining marks; IGNORE drops soft hyphens and
// zero-width characters, which are invisible and would otherwise break prefix matches.
constexpr utf8proc_option_t kOptions = static_cast<utf8proc_option_t>(
    UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);

constexpr int32_t kReplacement = 0xFFFD;

bool IsSeparator(int32_t cp) {
  if (cp < 0x80) return cp <= 0x20 || cp == 0x7F;  // ASCII controls count as spaces
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
      return true;
    default:
      return false;
  }
}

// Appends code points with one space between runs of separators, none at either end.
class Collapser {
 public:
  explicit Collapser(std::string& out) : out_(out) {}
  void Add(int32_t cp) {
    if (IsSeparator(cp)) {
      pending_space_ = !out_.empty();
      return;
    }
    if (pending_space_) out_.push_back(' ');
    pending_space_ = false;
    std::array<utf8proc_uint8_t, 4> bytes;
    utf8proc_ssize_t n = utf8proc_encode_char(cp, bytes.data());
    out_.append(reinterpret_cast<const char*>(bytes.data()), static_cast<size_t>(n));
  }

 private:
  std::string& out_;
  bool pending_space_ = false;
};

// Most values are ASCII: lower-casing and collapsing is all the full mapping would do to
// them, and this path avoids decoding code points one by one.
bool NormalizeAscii(std::string_view text, std::string& out) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  bool pending_space = false;
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7F) {  // as IsSeparator
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return true;
}

}  // namespace

std::string NormalizeString(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  if (NormalizeAscii(text, out)) return out;

  Collapser collapser(out);
  std::array<utf8proc_int32_t, 32> buffer;
  std::vector<utf8proc_int32_t> large;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t remaining = static_cast<utf8proc_ssize_t>(text.size());
  while (remaining > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t consumed = utf8proc_iterate(p, remaining, &cp);
    if (consumed <= 0) {
      cp = kReplacement;
      consumed = 1;
    }
    p += consumed;
    remaining -= consumed;

    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, buffer.data(), buffer.size(), kOptions, &boundclass);
    const utf8proc_int32_t* decomposed = buffer.data();
    if (n > static_cast<utf8proc_ssize_t>(buffer.size())) {
      large.resize(static_cast<size_t>(n));
      n = utf8proc_decompose_char(cp, large.data(), n, kOptions, &boundclass);
      decomposed = large.data();
    }
    if (n < 0) {  // cannot happen for a valid code point; keep the text usable anyway
      collapser.Add(kReplacement);
      continue;
    }
    for (utf8proc_ssize_t i = 0; i < n; ++i) {
      // A compatibility decomposition can yield capitals that case folding (applied to
      // the original code point) did not see: U+210C BLACK-LETTER CAPITAL H -> "H".
      collapser.Add(utf8proc_tolower(decomposed[i]));
    }
  }
  return out;
}

}  // namespace ehr::search
