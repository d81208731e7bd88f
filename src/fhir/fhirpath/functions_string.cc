// The String functions of FHIRPath (N1 5.6 and the STU additions the R4 suite uses:
// lastIndexOf, matchesFull, trim, split, join, encode/decode, escape/unescape).
//
// Positions and lengths count Unicode code points, not bytes: strings are UTF-8 here, and
// a user who writes 'Zoë'.length() means 3. Regular expressions run on RE2, whose
// matching time is linear in the input and which never recurses on the pattern, because
// patterns may come from stored resources (invariants, search parameters).
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "fhir/fhirpath/functions_internal.h"

namespace ehr::fhirpath {
namespace {

// A string result larger than this is an evaluation error rather than an allocation
// failure: replace() and friends can grow a string geometrically, one call at a time.
constexpr size_t kMaxResultBytes = 64u << 20;
// Compiled regexes kept per thread. Expressions use a handful of fixed patterns; the cap
// only bounds memory when patterns are computed from data.
constexpr size_t kMaxCachedRegexes = 64;

// --- UTF-8 ---

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The byte offset of the code point after the one starting at `at`.
size_t NextCodePoint(std::string_view s, size_t at) {
  ++at;
  while (at < s.size() && IsContinuation(s[at])) ++at;
  return at;
}

int64_t CodePointCount(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += IsContinuation(c) ? 0 : 1;
  return n;
}

// The byte offset of code point `index` (s.size() when index is past the end).
size_t ByteOffset(std::string_view s, int64_t index) {
  size_t at = 0;
  for (int64_t i = 0; i < index && at < s.size(); ++i) at = NextCodePoint(s, at);
  return at;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsScalarValue(uint32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

// Strict UTF-8 (no overlong forms, no surrogates): decode() must not make a String that
// later breaks JSON output.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      if (!IsContinuation(s[i + k])) return false;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || !IsScalarValue(cp)) return false;
    i += extra + 1;
  }
  return true;
}

// --- Inputs and results ---

// The input string; nullopt for an empty input or a primitive with only extensions. Any
// other non-String item is an error (N1 5.6: "an item that is not a String").
std::optional<std::string_view> InputString(Evaluator& ev, const Expr& call, const Collection& input) {
  const Item* item = ev.Single(call, input, call.name + "()");
  if (item == nullptr) return std::nullopt;
  if (std::optional<std::string_view> s = StringView(*item)) return s;
  if (item->is_element() && item->element().value == nullptr) return std::nullopt;
  ev.Fail(call, call.name + "() needs a String input, not " + std::string(TypeOf(*item).name));
}

void CheckResultSize(Evaluator& ev, const Expr& call, size_t bytes) {
  if (bytes > kMaxResultBytes) ev.Fail(call, call.name + "() result exceeds the string size budget");
}

Collection OneString(std::string s) { return OneItem(Item::String(std::move(s))); }
Collection OneInteger(int64_t i) { return OneItem(Item::Integer(i)); }

// --- Searching and slicing ---

EHR_FHIRPATH_FN(IndexOf) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> sub = ev.ArgString(call, 0, scope);
  if (!s || !sub) return {};
  const size_t at = s->find(*sub);
  return OneInteger(at == std::string_view::npos ? -1 : CodePointCount(s->substr(0, at)));
}

EHR_FHIRPATH_FN(LastIndexOf) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> sub = ev.ArgString(call, 0, scope);
  if (!s || !sub) return {};
  if (sub->empty()) return OneInteger(0);  // as the spec says, not the JavaScript length
  const size_t at = s->rfind(*sub);
  return OneInteger(at == std::string_view::npos ? -1 : CodePointCount(s->substr(0, at)));
}

EHR_FHIRPATH_FN(Substring) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<int64_t> start = ev.ArgInteger(call, 0, scope);
  // An empty length is the same as no length (spec).
  std::optional<int64_t> length = call.arg_count() > 1 ? ev.ArgInteger(call, 1, scope) : std::nullopt;
  if (!s || !start) return {};
  const int64_t n = CodePointCount(*s);
  if (*start < 0 || *start >= n) return {};
  if (length && *length <= 0) return OneString("");
  const size_t begin = ByteOffset(*s, *start);
  if (!length || *length >= n - *start) return OneString(std::string(s->substr(begin)));
  const size_t end = begin + ByteOffset(s->substr(begin), *length);
  return OneString(std::string(s->substr(begin, end - begin)));
}

EHR_FHIRPATH_FN(StartsWith) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> prefix = ev.ArgString(call, 0, scope);
  if (!s || !prefix) return {};
  return OneBoolean(s->starts_with(*prefix));
}

EHR_FHIRPATH_FN(EndsWith) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> suffix = ev.ArgString(call, 0, scope);
  if (!s || !suffix) return {};
  return OneBoolean(s->ends_with(*suffix));
}

EHR_FHIRPATH_FN(ContainsFn) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> sub = ev.ArgString(call, 0, scope);
  if (!s || !sub) return {};
  return OneBoolean(s->find(*sub) != std::string_view::npos);
}

// Case mapping covers ASCII only: full Unicode case mapping needs ICU tables, and the
// locale-dependent C library functions would make results vary between hosts.
EHR_FHIRPATH_FN(Upper) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  if (!s) return {};
  std::string out(*s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return OneString(std::move(out));
}

EHR_FHIRPATH_FN(Lower) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  if (!s) return {};
  std::string out(*s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return OneString(std::move(out));
}

EHR_FHIRPATH_FN(Replace) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> pattern = ev.ArgString(call, 0, scope);
  std::optional<std::string> substitution = ev.ArgString(call, 1, scope);
  if (!s || !pattern || !substitution) return {};
  std::string out;
  if (pattern->empty()) {
    // Every character is surrounded by the substitution: 'abc' -> 'xaxbxcx'.
    CheckResultSize(ev, call, s->size() + (static_cast<size_t>(CodePointCount(*s)) + 1) * substitution->size());
    out += *substitution;
    for (size_t at = 0; at < s->size();) {
      const size_t next = NextCodePoint(*s, at);
      out.append(*s, at, next - at);
      out += *substitution;
      at = next;
    }
    return OneString(std::move(out));
  }
  size_t from = 0;
  for (size_t at = s->find(*pattern); at != std::string_view::npos; at = s->find(*pattern, from)) {
    out.append(*s, from, at - from);
    out += *substitution;
    CheckResultSize(ev, call, out.size());
    from = at + pattern->size();
  }
  out.append(s->substr(from));
  return OneString(std::move(out));
}

EHR_FHIRPATH_FN(Length) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  if (!s) return {};
  return OneInteger(CodePointCount(*s));
}

EHR_FHIRPATH_FN(ToChars) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  if (!s) return {};
  Collection out;
  for (size_t at = 0; at < s->size();) {
    const size_t next = NextCodePoint(*s, at);
    out.push_back(Item::String(std::string(s->substr(at, next - at))));
    at = next;
  }
  ev.CheckSize(call, out.size());
  return out;
}

// The Whitespace lexical category of FHIRPath.
bool IsFhirPathWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

EHR_FHIRPATH_FN(Trim) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  if (!s) return {};
  std::string_view v = *s;
  while (!v.empty() && IsFhirPathWhitespace(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsFhirPathWhitespace(v.back())) v.remove_suffix(1);
  return OneString(std::string(v));
}

EHR_FHIRPATH_FN(Split) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> separator = ev.ArgString(call, 0, scope);
  if (!s || !separator) return {};
  // No separator to find: one item per character (as String.split('') does elsewhere).
  if (separator->empty()) return ToChars(ev, call, input, scope);
  Collection out;
  size_t from = 0;
  for (size_t at = s->find(*separator); at != std::string_view::npos; at = s->find(*separator, from)) {
    out.push_back(Item::String(std::string(s->substr(from, at - from))));
    ev.CheckSize(call, out.size());
    from = at + separator->size();
  }
  out.push_back(Item::String(std::string(s->substr(from))));
  return out;
}

EHR_FHIRPATH_FN(Join) {
  // An empty separator argument counts as none, like an empty substring() length.
  std::optional<std::string> separator = call.arg_count() > 0 ? ev.ArgString(call, 0, scope) : std::nullopt;
  if (input.empty()) return {};
  std::string out;
  bool first = true;
  for (const Item& item : input) {
    std::optional<std::string_view> s = StringView(item);
    if (!s) {
      if (item.is_element() && item.element().value == nullptr) continue;
      ev.Fail(call, "join() needs Strings, not " + std::string(TypeOf(item).name));
    }
    if (!first && separator) out += *separator;
    first = false;
    out += *s;
    CheckResultSize(ev, call, out.size());
  }
  return OneString(std::move(out));
}

// --- Regular expressions ---

// Rewrites named groups from the PCRE/.NET/ECMAScript form (?<name>...), which the spec's
// own replaceMatches() example uses, into the (?P<name>...) form this RE2 reads. Escapes
// and character classes are skipped so that \(?< and [(?<] stay as written.
std::string ToRe2Syntax(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 4);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    out += c;
    if (c == '\\' && i + 1 < pattern.size()) {
      out += pattern[++i];
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
    } else if (c == '(' && pattern.substr(i + 1, 2) == "?<" && i + 3 < pattern.size() &&
               (std::isalpha(static_cast<unsigned char>(pattern[i + 3])) || pattern[i + 3] == '_')) {
      out += "?P<";
      i += 2;
    }
  }
  return out;
}

// FHIRPath regexes are case-sensitive, single-line mode ('.' matches a newline), Unicode.
std::shared_ptr<const RE2> CompileRegex(Evaluator& ev, const Expr& call, const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const RE2>> cache;
  if (auto it = cache.find(pattern); it != cache.end()) return it->second;
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_dot_nl(true);
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(ToRe2Syntax(pattern), options);
  if (!re->ok()) ev.Fail(call, "invalid regular expression for " + call.name + "(): " + re->error());
  if (cache.size() >= kMaxCachedRegexes) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

re2::StringPiece Piece(std::string_view s) { return re2::StringPiece(s.data(), s.size()); }

EHR_FHIRPATH_FN(Matches) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> regex = ev.ArgString(call, 0, scope);
  if (!s || !regex) return {};
  std::shared_ptr<const RE2> re = CompileRegex(ev, call, *regex);
  return OneBoolean(RE2::PartialMatch(Piece(*s), *re));
}

EHR_FHIRPATH_FN(MatchesFull) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> regex = ev.ArgString(call, 0, scope);
  if (!s || !regex) return {};
  std::shared_ptr<const RE2> re = CompileRegex(ev, call, *regex);
  return OneBoolean(RE2::FullMatch(Piece(*s), *re));
}

// A parsed substitution: literal text and group references, in order.
struct SubstitutionPart {
  std::string literal;
  int group = -1;  // >= 0: the text of this capturing group (0 = the whole match)
};

// Reads the substitution syntax of .NET and JavaScript: $1, $12, ${name}, $& and $$. A
// reference to a group the regex does not have stays literal text, as both do.
std::vector<SubstitutionPart> ParseSubstitution(std::string_view text, const RE2& re) {
  std::vector<SubstitutionPart> parts;
  auto literal = [&](std::string_view piece) {
    if (parts.empty() || parts.back().group >= 0) parts.emplace_back();
    parts.back().literal += piece;
  };
  const int groups = re.NumberOfCapturingGroups();
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '$' || i + 1 == text.size()) {
      literal(text.substr(i, 1));
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      literal("$");
      i += 2;
    } else if (next == '&') {
      parts.push_back({"", 0});
      i += 2;
    } else if (next >= '0' && next <= '9') {
      int group = next - '0';
      size_t used = 2;
      if (i + 2 < text.size() && text[i + 2] >= '0' && text[i + 2] <= '9' &&
          group * 10 + (text[i + 2] - '0') <= groups) {
        group = group * 10 + (text[i + 2] - '0');
        used = 3;
      }
      if (group <= groups) {
        parts.push_back({"", group});
      } else {
        literal(text.substr(i, used));
      }
      i += used;
    } else if (next == '{' && text.find('}', i + 2) != std::string_view::npos) {
      const size_t close = text.find('}', i + 2);
      const std::string name(text.substr(i + 2, close - i - 2));
      const auto& named = re.NamedCapturingGroups();
      if (auto it = named.find(name); it != named.end()) {
        parts.push_back({"", it->second});
      } else {
        literal(text.substr(i, close + 1 - i));
      }
      i = close + 1;
    } else {
      literal("$");
      ++i;
    }
  }
  return parts;
}

EHR_FHIRPATH_FN(ReplaceMatches) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> regex = ev.ArgString(call, 0, scope);
  std::optional<std::string> substitution = ev.ArgString(call, 1, scope);
  if (!s || !regex || !substitution) return {};
  // An empty regex would match between every character; the R4 suite expects the input
  // back unchanged ('abc'.replaceMatches('', 'x') = 'abc').
  if (regex->empty()) return OneString(std::string(*s));
  std::shared_ptr<const RE2> re = CompileRegex(ev, call, *regex);
  const std::vector<SubstitutionPart> parts = ParseSubstitution(*substitution, *re);
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re->NumberOfCapturingGroups()) + 1);
  const re2::StringPiece text = Piece(*s);
  std::string out;
  size_t from = 0;  // start of the text not yet copied
  size_t search = 0;
  while (search <= s->size() &&
         re->Match(text, search, s->size(), RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size()))) {
    ev.Step();
    const size_t begin = static_cast<size_t>(groups[0].data() - text.data());
    const size_t end = begin + groups[0].size();
    out.append(*s, from, begin - from);
    for (const SubstitutionPart& part : parts) {
      if (part.group < 0) {
        out += part.literal;
      } else if (groups[part.group].data() != nullptr) {
        out.append(groups[part.group].data(), groups[part.group].size());
      }
    }
    CheckResultSize(ev, call, out.size());
    from = end;
    // After an empty match, step over one character so the search makes progress.
    search = end > begin ? end : (end < s->size() ? NextCodePoint(*s, end) : s->size() + 1);
  }
  if (from < s->size()) out.append(s->substr(from));
  return OneString(std::move(out));
}

// --- Encodings ---

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string EncodeHex(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 0x0F];
  }
  return out;
}

std::optional<std::string> DecodeHex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = HexValue(s[i]);
    const int lo = HexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// RFC 4648 base64 with padding, in the standard or the URL-safe alphabet.
std::string EncodeBase64(std::string_view s, const char* alphabet) {
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  for (size_t i = 0; i < s.size(); i += 3) {
    const size_t n = std::min<size_t>(3, s.size() - i);
    uint32_t block = 0;
    for (size_t k = 0; k < 3; ++k) {
      block = block << 8 | (k < n ? static_cast<unsigned char>(s[i + k]) : 0u);
    }
    for (size_t k = 0; k < 4; ++k) {
      out += k <= n ? alphabet[(block >> (18 - 6 * k)) & 0x3F] : '=';
    }
  }
  return out;
}

// Accepts the text with or without its padding; nullopt for any other character.
std::optional<std::string> DecodeBase64(std::string_view s, const char* alphabet) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(s.size() * 3 / 4);
  uint32_t block = 0;
  int bits = 0;
  for (char c : s) {
    const char* found = c == '\0' ? nullptr : std::strchr(alphabet, c);
    if (found == nullptr) return std::nullopt;
    block = block << 6 | static_cast<uint32_t>(found - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((block >> bits) & 0xFF);
    }
  }
  return out;
}

EHR_FHIRPATH_FN(Encode) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> format = ev.ArgString(call, 0, scope);
  if (!s || !format) return {};
  std::string out;
  if (*format == "hex") {
    out = EncodeHex(*s);
  } else if (*format == "base64") {
    out = EncodeBase64(*s, kBase64);
  } else if (*format == "urlbase64") {
    out = EncodeBase64(*s, kBase64Url);
  } else {
    ev.Fail(call.arg(0), "unknown encoding '" + *format + "' (hex, base64 or urlbase64)");
  }
  CheckResultSize(ev, call, out.size());
  return OneString(std::move(out));
}

// Text that does not decode, or decodes to bytes that are not UTF-8 text, gives empty:
// a String must stay valid UTF-8.
EHR_FHIRPATH_FN(Decode) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> format = ev.ArgString(call, 0, scope);
  if (!s || !format) return {};
  std::optional<std::string> out;
  if (*format == "hex") {
    out = DecodeHex(*s);
  } else if (*format == "base64") {
    out = DecodeBase64(*s, kBase64);
  } else if (*format == "urlbase64") {
    out = DecodeBase64(*s, kBase64Url);
  } else {
    ev.Fail(call.arg(0), "unknown encoding '" + *format + "' (hex, base64 or urlbase64)");
  }
  if (!out || !IsValidUtf8(*out)) return {};
  return OneString(std::move(*out));
}

// The characters HTML content cannot hold as they are, with their references.
constexpr std::pair<char, std::string_view> kHtmlEscapes[] = {
    {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}};

std::string EscapeHtml(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto* e = std::find_if(std::begin(kHtmlEscapes), std::end(kHtmlEscapes),
                                 [c](const auto& pair) { return pair.first == c; });
    if (e != std::end(kHtmlEscapes)) {
      out += e->second;
    } else {
      out += c;
    }
  }
  return out;
}

// Named references of the characters EscapeHtml writes, plus &apos; and &nbsp;, and numeric
// references. Anything else stays as written.
std::string UnescapeHtml(std::string_view s) {
  static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xC2\xA0"}};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t semi = s[i] == '&' ? s.find(';', i + 1) : std::string_view::npos;
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i++];
      continue;
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    bool done = false;
    if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      bool ok = !digits.empty();
      for (char c : digits) {
        const int v = hex ? HexValue(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
        if (v < 0 || cp > 0x10FFFF) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      }
      if (ok && cp != 0 && IsScalarValue(cp)) {
        AppendUtf8(out, cp);
        done = true;
      }
    } else {
      for (const auto& [entity, text] : kNamed) {
        if (name == entity) {
          out += text;
          done = true;
        }
      }
    }
    if (done) {
      i = semi + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// JSON's two-character escapes: the character and the letter after the backslash. '/' is
// only ever read, never written.
constexpr std::pair<char, char> kJsonEscapes[] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
                                                  {'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}, {'/', '/'}};

std::string EscapeJson(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto* e = std::find_if(std::begin(kJsonEscapes), std::end(kJsonEscapes),
                                 [c](const auto& pair) { return pair.first == c && c != '/'; });
    if (e != std::end(kJsonEscapes)) {
      out += '\\';
      out += e->second;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\u00";
      out += kHexDigits[(c >> 4) & 0x0F];
      out += kHexDigits[c & 0x0F];
    } else {
      out += c;
    }
  }
  return out;
}

// Reads the 4 hex digits at s[at]; nullopt when they are not there.
std::optional<uint32_t> Hex4(std::string_view s, size_t at) {
  if (at + 4 > s.size()) return std::nullopt;
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int d = HexValue(s[at + k]);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  return v;
}

// JSON string escapes; a malformed escape or a lone surrogate stays as written.
std::string UnescapeJson(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i++];
      continue;
    }
    const char e = s[i + 1];
    const auto* simple = std::find_if(std::begin(kJsonEscapes), std::end(kJsonEscapes),
                                      [e](const auto& pair) { return pair.second == e; });
    if (simple != std::end(kJsonEscapes)) {
      out += simple->first;
      i += 2;
      continue;
    }
    std::optional<uint32_t> cp = e == 'u' ? Hex4(s, i + 2) : std::nullopt;
    size_t used = 6;
    if (cp && *cp >= 0xD800 && *cp <= 0xDBFF && s.substr(i + 6, 2) == "\\u") {
      std::optional<uint32_t> low = Hex4(s, i + 8);
      if (low && *low >= 0xDC00 && *low <= 0xDFFF) {
        cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
        used = 12;
      }
    }
    if (cp && IsScalarValue(*cp)) {
      AppendUtf8(out, *cp);
      i += used;
    } else {
      out += s[i++];
    }
  }
  return out;
}

EHR_FHIRPATH_FN(Escape) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> target = ev.ArgString(call, 0, scope);
  if (!s || !target) return {};
  std::string out;
  if (*target == "html") {
    out = EscapeHtml(*s);
  } else if (*target == "json") {
    out = EscapeJson(*s);
  } else {
    ev.Fail(call.arg(0), "unknown escape target '" + *target + "' (html or json)");
  }
  CheckResultSize(ev, call, out.size());
  return OneString(std::move(out));
}

EHR_FHIRPATH_FN(Unescape) {
  std::optional<std::string_view> s = InputString(ev, call, input);
  std::optional<std::string> target = ev.ArgString(call, 0, scope);
  if (!s || !target) return {};
  if (*target == "html") return OneString(UnescapeHtml(*s));
  if (*target == "json") return OneString(UnescapeJson(*s));
  ev.Fail(call.arg(0), "unknown escape target '" + *target + "' (html or json)");
}

constexpr FunctionDef kString[] = {
    {"indexOf", 1, 1, IndexOf},
    {"lastIndexOf", 1, 1, LastIndexOf},
    {"substring", 1, 2, Substring},
    {"startsWith", 1, 1, StartsWith},
    {"endsWith", 1, 1, EndsWith},
    {"contains", 1, 1, ContainsFn},
    {"upper", 0, 0, Upper},
    {"lower", 0, 0, Lower},
    {"replace", 2, 2, Replace},
    {"matches", 1, 1, Matches},
    {"matchesFull", 1, 1, MatchesFull},
    {"replaceMatches", 2, 2, ReplaceMatches},
    {"length", 0, 0, Length},
    {"toChars", 0, 0, ToChars},
    {"trim", 0, 0, Trim},
    {"split", 1, 1, Split},
    {"join", 0, 1, Join},
    {"encode", 1, 1, Encode},
    {"decode", 1, 1, Decode},
    {"escape", 1, 1, Escape},
    {"unescape", 1, 1, Unescape},
};

}  // namespace

std::span<const FunctionDef> StringFunctions() { return kString; }

}  // namespace ehr::fhirpath
