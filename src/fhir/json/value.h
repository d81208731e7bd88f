// A JSON document model for FHIR resources.
//
// Why not RapidJSON's Document: FHIR decimals must keep their exact text ("1.50" stays
// "1.50"), so numbers are held as their source text. Objects keep member order. Values
// own their children (plain value semantics, movable, copyable). Parsing uses RapidJSON's
// SAX reader (iterative, UTF-8 validated) with a nesting limit so hostile input cannot
// exhaust the stack. Not thread-safe for concurrent mutation; const access is safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace ehr::json {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

// A number kept as its JSON text.
struct Number {
  std::string text;
};

class Value {
 public:
  Value() = default;  // null
  explicit Value(bool b) : v_(b) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}
  explicit Value(Number n) : v_(std::move(n)) {}
  explicit Value(Array a) : v_(std::move(a)) {}
  explicit Value(Object o) : v_(std::move(o)) {}
  static Value MakeObject() { return Value(Object{}); }
  static Value MakeArray() { return Value(Array{}); }
  static Value MakeNumber(std::string text) { return Value(Number{std::move(text)}); }
  static Value MakeInt(int64_t i) { return Value(Number{std::to_string(i)}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  bool as_bool() const { return std::get<bool>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  std::string& as_string() { return std::get<std::string>(v_); }
  const std::string& number_text() const { return std::get<Number>(v_).text; }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  // Number helpers. nullopt when not a number or out of range / not integral.
  std::optional<int64_t> as_int64() const;
  std::optional<double> as_double() const;
  bool is_integer_text() const;  // a number written without fraction or exponent

  // Object helpers (linear scan: FHIR objects are small). nullptr when absent or not object.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  // Sets (replacing or appending) a member; the value must be an object.
  Value& Set(std::string_view key, Value v);
  // Inserts a member at position `index` (or replaces it where it is).
  Value& SetAt(size_t index, std::string_view key, Value v);
  bool Remove(std::string_view key);
  // String member or empty view.
  std::string_view GetString(std::string_view key) const;

  // Deep structural equality; numbers compare by exact decimal value ("1.50" == "1.5",
  // "0.1" != "0.10000000000000001"), objects ignore member order.
  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::monostate, bool, Number, std::string, Array, Object> v_;
};

// Exact decimal equality of two JSON number texts; texts that are not JSON numbers are equal
// only when identical.
bool NumberTextsEqual(std::string_view a, std::string_view b);

struct ParseOptions {
  int max_depth = 128;
  bool reject_duplicate_keys = true;
};

// Parses one JSON text. Errors are kInvalid with a message naming the byte offset.
Result<Value> Parse(std::string_view text, const ParseOptions& options = {});

struct WriteOptions {
  bool pretty = false;
};
// Serialises `v`. Numbers are written as their kept text.
std::string Write(const Value& v, const WriteOptions& options = {});
void WriteTo(std::string& out, const Value& v, const WriteOptions& options = {});

}  // namespace ehr::json
