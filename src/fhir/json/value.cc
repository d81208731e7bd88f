#include "fhir/json/value.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "core/log.h"

namespace ehr::json {

namespace {

// A JSON number as sign * digits * 10^exponent, with no leading or trailing zero digit.
// Zero has empty digits. Exponents too large for int64 arithmetic set `huge_exponent`.
struct Decimal {
  bool negative = false;
  std::string digits;
  int64_t exponent = 0;
  bool huge_exponent = false;
};

std::optional<Decimal> ToDecimal(std::string_view text) {
  Decimal d;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.negative = true;
    ++i;
  }
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t int_begin = i;
  while (i < text.size() && is_digit(text[i])) d.digits += text[i++];
  if (i == int_begin) return std::nullopt;
  int64_t fraction_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) {
      d.digits += text[i++];
      ++fraction_digits;
    }
    if (fraction_digits == 0) return std::nullopt;
  }
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exponent = text[i++] == '-';
    size_t exp_begin = i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (exponent > 100'000'000'000'000) d.huge_exponent = true;  // keep going, stop growing
      else exponent = exponent * 10 + (text[i] - '0');
    }
    if (i == exp_begin) return std::nullopt;
    if (negative_exponent) exponent = -exponent;
  }
  if (i != text.size()) return std::nullopt;
  d.exponent = exponent - fraction_digits;
  size_t first = d.digits.find_first_not_of('0');
  if (first == std::string::npos) return Decimal{};  // zero, whatever its sign or exponent
  size_t last = d.digits.find_last_not_of('0');
  d.exponent += static_cast<int64_t>(d.digits.size() - 1 - last);
  d.digits = d.digits.substr(first, last - first + 1);
  return d;
}

bool NumbersEqualImpl(std::string_view a, std::string_view b) {
  if (a == b) return true;
  std::optional<Decimal> x = ToDecimal(a);
  std::optional<Decimal> y = ToDecimal(b);
  if (!x || !y) return false;  // not JSON number syntax: only identical text is equal
  if (x->huge_exponent || y->huge_exponent) return false;  // beyond 1e100000000000000
  return x->negative == y->negative && x->digits == y->digits && x->exponent == y->exponent;
}

}  // namespace

bool NumberTextsEqual(std::string_view a, std::string_view b) { return NumbersEqualImpl(a, b); }

std::optional<int64_t> Value::as_int64() const {
  if (!is_number() || !is_integer_text()) return std::nullopt;
  const std::string& t = number_text();
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno == ERANGE || end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

std::optional<double> Value::as_double() const {
  if (!is_number()) return std::nullopt;
  const std::string& t = number_text();
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool Value::is_integer_text() const {
  if (!is_number()) return false;
  for (char c : number_text()) {
    if (c == '.' || c == 'e' || c == 'E') return false;
  }
  return true;
}

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& m : as_object()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->Find(key));
}

Value& Value::Set(std::string_view key, Value v) {
  Object& o = as_object();
  for (auto& m : o) {
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  }
  o.emplace_back(std::string(key), std::move(v));
  return o.back().second;
}

Value& Value::SetAt(size_t index, std::string_view key, Value v) {
  Object& o = as_object();
  for (auto& m : o) {
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  }
  if (index > o.size()) index = o.size();
  auto it = o.emplace(o.begin() + static_cast<std::ptrdiff_t>(index), std::string(key), std::move(v));
  return it->second;
}

bool Value::Remove(std::string_view key) {
  if (!is_object()) return false;
  Object& o = as_object();
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it->first == key) {
      o.erase(it);
      return true;
    }
  }
  return false;
}

std::string_view Value::GetString(std::string_view key) const {
  const Value* v = Find(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kNull: return true;
    case Type::kBool: return a.as_bool() == b.as_bool();
    case Type::kString: return a.as_string() == b.as_string();
    case Type::kNumber: return NumberTextsEqual(a.number_text(), b.number_text());
    case Type::kArray: return a.as_array() == b.as_array();
    case Type::kObject: {
      const Object& x = a.as_object();
      const Object& y = b.as_object();
      if (x.size() != y.size()) return false;
      // Both directions, so that objects with repeated keys (parsed with duplicates
      // allowed) compare symmetrically.
      for (const auto& m : x) {
        const Value* other = b.Find(m.first);
        if (!other || !(*other == m.second)) return false;
      }
      for (const auto& m : y) {
        if (!a.Find(m.first)) return false;
      }
      return true;
    }
  }
  return false;
}

namespace {

// Builds a Value tree from RapidJSON SAX events.
class Builder {
 public:
  explicit Builder(const ParseOptions& o) : options_(o) {}

  bool Null() { return Add(Value()); }
  bool Bool(bool b) { return Add(Value(b)); }
  bool Int(int) { return false; }  // unreachable: numbers arrive as RawNumber
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) { return Add(Value::MakeNumber(std::string(s, len))); }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    if (!ValidDecoded(s, len)) return false;
    return Add(Value(std::string(s, len)));
  }
  bool StartObject() { return Push(Value::MakeObject()); }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    if (!ValidDecoded(s, len)) return false;
    pending_key_.assign(s, len);
    if (options_.reject_duplicate_keys && IsDuplicate(pending_key_)) {
      error_ = "duplicate key '" + pending_key_ + "'";
      return false;
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Pop(); }
  bool StartArray() { return Push(Value::MakeArray()); }
  bool EndArray(rapidjson::SizeType) { return Pop(); }

  Value TakeRoot() { return std::move(root_); }

  // RapidJSON validates raw bytes but decodes a lone "\udc00" escape into the bytes of a
  // surrogate (ED B0 80), which is not UTF-8: refuse it.
  bool ValidDecoded(const char* s, size_t len) {
    const char* end = s + len;
    for (const char* p = static_cast<const char*>(memchr(s, 0xED, len)); p;
         p = static_cast<const char*>(memchr(p + 1, 0xED, static_cast<size_t>(end - p - 1)))) {
      if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xA0) {
        error_ = "unpaired surrogate escape in a string";
        return false;
      }
      if (p + 1 >= end) break;
    }
    return true;
  }

  // Linear scan for small objects; a hash set once an object grows, so that hostile input
  // with many keys cannot make parsing quadratic.
  bool IsDuplicate(const std::string& key) {
    const Object& members = stack_.back().as_object();
    auto& seen = key_sets_.back();
    if (members.size() < kHashFrom) {
      for (const auto& m : members) {
        if (m.first == key) return true;
      }
      return false;
    }
    if (seen.empty()) {
      for (const auto& m : members) seen.insert(m.first);
    }
    return !seen.insert(key).second;
  }
  const std::string& error() const { return error_; }

 private:
  bool Add(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Value& top = stack_.back();
    if (top.is_array()) {
      top.as_array().push_back(std::move(v));
    } else {
      top.as_object().emplace_back(std::move(pending_key_), std::move(v));
      pending_key_.clear();
    }
    return true;
  }
  bool Push(Value v) {
    if (static_cast<int>(stack_.size()) >= options_.max_depth) {
      error_ = "nesting deeper than " + std::to_string(options_.max_depth) + " levels";
      return false;
    }
    if (!stack_.empty() && stack_.back().is_object()) keys_.push_back(std::move(pending_key_));
    else keys_.emplace_back();
    stack_.push_back(std::move(v));
    key_sets_.emplace_back();
    return true;
  }
  bool Pop() {
    Value v = std::move(stack_.back());
    stack_.pop_back();
    key_sets_.pop_back();
    pending_key_ = std::move(keys_.back());
    keys_.pop_back();
    return Add(std::move(v));
  }

  const ParseOptions& options_;
  std::vector<Value> stack_;
  static constexpr size_t kHashFrom = 32;
  std::vector<std::string> keys_;
  std::vector<std::unordered_set<std::string>> key_sets_;  // per open container, filled lazily
  std::string pending_key_;
  Value root_;
  std::string error_;
};

void Indent(std::string& out, int depth) {
  out += '\n';
  out.append(static_cast<size_t>(depth) * 2, ' ');
}

void WriteValue(std::string& out, const Value& v, bool pretty, int depth) {
  switch (v.type()) {
    case Type::kNull: out += "null"; break;
    case Type::kBool: out += v.as_bool() ? "true" : "false"; break;
    case Type::kNumber: out += v.number_text(); break;
    case Type::kString:
      out += '"';
      log::AppendJsonEscaped(out, v.as_string());
      out += '"';
      break;
    case Type::kArray: {
      const Array& a = v.as_array();
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        if (pretty) Indent(out, depth + 1);
        WriteValue(out, a[i], pretty, depth + 1);
      }
      if (pretty && !a.empty()) Indent(out, depth);
      out += ']';
      break;
    }
    case Type::kObject: {
      const Object& o = v.as_object();
      out += '{';
      for (size_t i = 0; i < o.size(); ++i) {
        if (i) out += ',';
        if (pretty) Indent(out, depth + 1);
        out += '"';
        log::AppendJsonEscaped(out, o[i].first);
        out += pretty ? "\": " : "\":";
        WriteValue(out, o[i].second, pretty, depth + 1);
      }
      if (pretty && !o.empty()) Indent(out, depth);
      out += '}';
      break;
    }
  }
}

}  // namespace

Result<Value> Parse(std::string_view text, const ParseOptions& options) {
  // RapidJSON's memory stream treats NUL as the end of input, which would ignore whatever
  // follows; JSON text never contains a raw NUL.
  // (An empty view may have a null data pointer, which memchr must not get.)
  if (const void* nul = text.empty() ? nullptr : memchr(text.data(), 0, text.size())) {
    size_t offset = static_cast<size_t>(static_cast<const char*>(nul) - text.data());
    return Status::Invalid("Invalid JSON at byte offset " + std::to_string(offset) + ": NUL byte", "", "structure");
  }
  Builder builder(options);
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag;
  rapidjson::ParseResult r = reader.Parse<kFlags>(is, builder);
  if (!r) {
    std::string why = builder.error().empty() ? rapidjson::GetParseError_En(r.Code()) : builder.error();
    return Status::Invalid("Invalid JSON at byte offset " + std::to_string(r.Offset()) + ": " + why, "",
                           "structure");
  }
  return builder.TakeRoot();
}

std::string Write(const Value& v, const WriteOptions& options) {
  std::string out;
  WriteTo(out, v, options);
  return out;
}

void WriteTo(std::string& out, const Value& v, const WriteOptions& options) {
  WriteValue(out, v, options.pretty, 0);
}

}  // namespace ehr::json
