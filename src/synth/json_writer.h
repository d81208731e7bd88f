// A small streaming JSON writer for generated resources: appends to a string, inserts
// commas, escapes strings. Faster than building a json::Value tree, which matters at half
// a million resources a second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ehr::synth {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& Object() { return Open('{'); }
  JsonWriter& Object(std::string_view key) { return Key(key).Open('{'); }
  JsonWriter& Array(std::string_view key) { return Key(key).Open('['); }
  JsonWriter& Array() { return Open('['); }
  JsonWriter& End();  // closes the innermost object or array

  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  // A decimal rounded to `decimals` places, written as FHIR wants it (no exponent).
  JsonWriter& Decimal(double value, int decimals);
  JsonWriter& Bool(bool value);

  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  // {"reference": value}
  JsonWriter& Reference(std::string_view key, std::string_view reference);
  JsonWriter& Reference(std::string_view reference);
  // {"coding": [{"system", "code", "display"}]}
  JsonWriter& Concept(std::string_view key, std::string_view system, std::string_view code, std::string_view display);
  JsonWriter& Concept(std::string_view system, std::string_view code, std::string_view display);
  // {"system", "code", "display"}
  JsonWriter& Coding(std::string_view system, std::string_view code, std::string_view display);

 private:
  JsonWriter& Open(char bracket);
  void Separate();

  std::string& out_;
  // One bit per depth: whether the container already holds a member.
  uint64_t filled_ = 0;
  char closers_[64];
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace ehr::synth
