#include "store/postgres/text_words.h"

#include <array>
#include <cstdint>

#include <utf8proc.h>

#include "core/secrets.h"

namespace ehr::store::pg {
namespace {

// What SQLite's FTS5 tokenizer (unicode61, remove_diacritics 2) counts as part of a word:
// letters, digits, private-use characters, and code points its Unicode 6.1 tables do not
// know (unassigned here too).
bool IsWordCharacter(int32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

// The combining diacritics that FTS5 drops inside a word (every other mark ends one).
bool IsDroppedDiacritic(int32_t cp) {
  return (cp >= 0x300 && cp <= 0x304) || (cp >= 0x306 && cp <= 0x30C) || cp == 0x30F || cp == 0x311 ||
         cp == 0x31B || (cp >= 0x323 && cp <= 0x328) || cp == 0x32D || cp == 0x32E || cp == 0x330 || cp == 0x331;
}

bool IsMark(int32_t cp) {
  const utf8proc_category_t c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

// A word character folded as FTS5 folds it: simple case folding (ß stays ß, ς becomes σ),
// then an ASCII letter with diacritics becomes the letter (é e, ǰ j; ø, æ and ł stay).
int32_t Fold(int32_t cp) {
  std::array<utf8proc_int32_t, 4> buffer;
  utf8proc_int32_t boundclass = UTF8PROC_BOUNDCLASS_START;
  utf8proc_ssize_t n = utf8proc_decompose_char(cp, buffer.data(), buffer.size(), UTF8PROC_CASEFOLD, &boundclass);
  int32_t folded = n == 1 ? buffer[0] : utf8proc_tolower(cp);  // a full folding to several: simple lower case
  boundclass = UTF8PROC_BOUNDCLASS_START;
  n = utf8proc_decompose_char(folded, buffer.data(), buffer.size(), UTF8PROC_DECOMPOSE, &boundclass);
  // ǡ (a, dot above, macron) is the one such letter FTS5 keeps.
  if (n < 2 || n > static_cast<utf8proc_ssize_t>(buffer.size()) || buffer[0] >= 0x80 || cp == 0x1E0 || cp == 0x1E1) {
    return folded;
  }
  for (utf8proc_ssize_t i = 1; i < n; ++i) {
    if (!IsMark(buffer[static_cast<size_t>(i)])) return folded;
  }
  return buffer[0];
}

void Append(std::string& out, int32_t cp) {
  std::array<utf8proc_uint8_t, 4> bytes;
  const utf8proc_ssize_t n = utf8proc_encode_char(cp, bytes.data());
  out.append(reinterpret_cast<const char*>(bytes.data()), static_cast<size_t>(n));
}

}  // namespace

std::string TextWords(std::string_view text) {
  std::string out;
  bool in_word = false;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t remaining = static_cast<utf8proc_ssize_t>(text.size());
  while (remaining > 0) {
    utf8proc_int32_t cp = *p;
    utf8proc_ssize_t consumed = 1;
    if (cp >= 0x80) {
      consumed = utf8proc_iterate(p, remaining, &cp);
      if (consumed <= 0) {  // an invalid byte separates words
        cp = -1;
        consumed = 1;
      }
    }
    p += consumed;
    remaining -= consumed;
    if (cp >= 0 && IsWordCharacter(cp)) {
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp));
      } else {
        Append(out, Fold(cp));
      }
      in_word = true;
    } else if (cp >= 0 && IsDroppedDiacritic(cp)) {
      continue;  // part of the word, left out
    } else if (in_word) {
      out.push_back(' ');
      in_word = false;
    }
  }
  if (in_word) out.push_back(' ');
  return out;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  const std::string all = TextWords(text);
  size_t start = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] != ' ') continue;
    words.push_back(all.substr(start, i - start));
    start = i + 1;
  }
  return words;
}

int64_t WordHash(std::string_view type, char field, std::string_view lexeme) {
  std::string named;
  named.reserve(type.size() + lexeme.size() + 3);
  named.append(type).push_back('\x1f');
  named.push_back(field);
  named.push_back('\x1f');
  named.append(lexeme);
  const std::string digest = Sha256(named);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(digest[i]);
  return static_cast<int64_t>(v);
}

std::string WordHashSql(std::string_view type, std::string_view field, std::string_view lexeme) {
  return "('x' || encode(substr(sha256(convert_to(" + std::string(type) + " || E'\\x1f' || " + std::string(field) +
         " || E'\\x1f' || " + std::string(lexeme) + ", 'UTF8')), 1, 8), 'hex'))::bit(64)::bigint";
}

std::string Lexeme(std::string_view word) {
  size_t chars = 0;
  for (size_t i = 0; i < word.size(); ++i) {
    // A UTF-8 character starts at every byte that is not a continuation byte.
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80 && chars++ == kMaxLexemeChars) {
      return std::string(word.substr(0, i));
    }
  }
  return std::string(word);
}

}  // namespace ehr::store::pg
