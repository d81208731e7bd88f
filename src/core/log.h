// Structured logging: one JSON object per line on stderr (or a configured file), written
// by a background thread so that request threads never block on output.
//
// Never pass protected health information: log route templates, codes and counts, never
// resource ids from URLs, query strings, names or identifiers. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ehr::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// A field value is either text or a number; both are JSON-escaped by the logger.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), text(v), is_number(false) {}
  Field(std::string_view k, const char* v) : key(k), text(v), is_number(false) {}
  Field(std::string_view k, const std::string& v) : key(k), text(v), is_number(false) {}
  Field(std::string_view k, int64_t v) : key(k), text(std::to_string(v)), is_number(true) {}
  Field(std::string_view k, int v) : key(k), text(std::to_string(v)), is_number(true) {}
  Field(std::string_view k, uint64_t v) : key(k), text(std::to_string(v)), is_number(true) {}
  Field(std::string_view k, double v);
  std::string_view key;
  std::string text;
  bool is_number;
};

void SetMinLevel(Level level);
// Redirects output to `fd` (default 2), after writing what is buffered. The logger does
// not own the descriptor.
void SetOutputFd(int fd);
// Writes buffered lines now (lines are otherwise written within ~20 ms; errors at once).
void Flush();
void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

// Appends `s` to `out` as the inside of a JSON string (no quotes).
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace ehr::log
