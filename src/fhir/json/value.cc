#include "fhir/json/value.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/log.h"

namespace ehr::json {

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
    case Type::kNumber: {
      if (a.number_text() == b.number_text()) return true;
      auto x = a.as_double(), y = b.as_double();
      return x && y && *x == *y;
    }
    case Type::kArray: return a.as_array() == b.as_array();
    case Type::kObject: {
      const Object& x = a.as_object();
      const Object& y = b.as_object();
      if (x.size() != y.size()) return false;
      for (const auto& m : x) {
        const Value* other = b.Find(m.first);
        if (!other || !(*other == m.second)) return false;
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
  bool String(const char* s, rapidjson::SizeType len, bool) { return Add(Value(std::string(s, len))); }
  bool StartObject() { return Push(Value::MakeObject()); }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    pending_key_.assign(s, len);
    if (options_.reject_duplicate_keys) {
      for (const auto& m : stack_.back().as_object()) {
        if (m.first == pending_key_) {
          error_ = "duplicate key '" + pending_key_ + "'";
          return false;
        }
      }
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Pop(); }
  bool StartArray() { return Push(Value::MakeArray()); }
  bool EndArray(rapidjson::SizeType) { return Pop(); }

  Value TakeRoot() { return std::move(root_); }
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
    return true;
  }
  bool Pop() {
    Value v = std::move(stack_.back());
    stack_.pop_back();
    pending_key_ = std::move(keys_.back());
    keys_.pop_back();
    return Add(std::move(v));
  }

  const ParseOptions& options_;
  std::vector<Value> stack_;
  std::vector<std::string> keys_;
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
