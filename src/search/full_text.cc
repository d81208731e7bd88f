#include "search/full_text.h"

#include <cstdint>

namespace ehr::search {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Appends the code point as UTF-8; nothing for what is not a Unicode scalar value.
void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The character a reference (`&amp;`, `&#233;`, `&#xE9;`, without the '&' and ';') stands
// for; empty when unknown (then it is kept as written).
std::string DecodeReference(std::string_view name) {
  if (name == "amp") return "&";
  if (name == "lt") return "<";
  if (name == "gt") return ">";
  if (name == "quot") return "\"";
  if (name == "apos") return "'";
  if (name == "nbsp") return " ";
  if (name.size() < 2 || name[0] != '#') return {};
  const bool hex = name[1] == 'x' || name[1] == 'X';
  std::string_view digits = name.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return {};
  uint32_t cp = 0;
  for (char c : digits) {
    int d = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return {};
    cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
  }
  std::string out;
  AppendUtf8(cp, out);
  return out;
}

// Appends `text` with runs of whitespace as one space (none at the start).
void AppendCollapsed(std::string_view text, std::string& out) {
  for (char c : text) {
    if (IsSpace(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
}

std::string StripMarkup(std::string_view xhtml) {
  std::string out;
  out.reserve(xhtml.size());
  for (size_t i = 0; i < xhtml.size();) {
    const char c = xhtml[i];
    if (c == '<') {
      // A tag (or comment) ends words: "<li>a</li><li>b</li>" is "a b".
      const size_t end = xhtml.find('>', i);
      i = end == std::string_view::npos ? xhtml.size() : end + 1;
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else if (c == '&') {
      const size_t semi = xhtml.find(';', i);
      std::string decoded;
      if (semi != std::string_view::npos && semi - i <= 12) decoded = DecodeReference(xhtml.substr(i + 1, semi - i - 1));
      if (decoded.empty()) {
        out.push_back('&');
        ++i;
      } else {
        AppendCollapsed(decoded, out);
        i = semi + 1;
      }
    } else {
      AppendCollapsed(std::string_view(&xhtml[i], 1), out);
      ++i;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Cuts `text` to at most `max` bytes on a UTF-8 boundary.
void CutUtf8(std::string& text, size_t max) {
  if (text.size() <= max) return;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
}

void AppendStrings(const json::Value& v, std::string_view key, int depth, std::string& out) {
  if (out.size() > kMaxContentBytes || depth > 64) return;
  if (v.is_string()) {
    if (v.as_string().empty()) return;
    if (!out.empty()) out.push_back('\n');
    if (key == "div") {
      out += StripMarkup(v.as_string());
    } else {
      out += v.as_string();
    }
  } else if (v.is_array()) {
    for (const json::Value& each : v.as_array()) AppendStrings(each, key, depth + 1, out);
  } else if (v.is_object()) {
    for (const auto& [name, member] : v.as_object()) {
      // base64 (Attachment.data, Binary.data, Signature.data) is no text; resourceType
      // (of contained resources) the same word in every resource of a type.
      if (name == "data" || name == "resourceType") continue;
      AppendStrings(member, name, depth + 1, out);
    }
  }
}

bool HasWordCharacter(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80) return true;
  }
  return false;
}

}  // namespace

std::string NarrativeText(const json::Value& resource) {
  if (!resource.is_object()) return {};
  const json::Value* text = resource.Find("text");
  if (text == nullptr || !text->is_object()) return {};
  const json::Value* div = text->Find("div");
  if (div == nullptr || !div->is_string()) return {};
  std::string out = StripMarkup(div->as_string());
  CutUtf8(out, kMaxContentBytes);
  return out;
}

std::string ContentText(const json::Value& resource) {
  std::string out;
  if (!resource.is_object()) return out;
  if (const json::Value* meta = resource.Find("meta"); meta != nullptr && meta->is_object()) {
    for (const auto& [name, member] : meta->as_object()) {
      if (name != "versionId" && name != "lastUpdated") AppendStrings(member, name, 1, out);
    }
  }
  for (const auto& [name, member] : resource.as_object()) {
    if (name != "id" && name != "meta" && name != "resourceType") AppendStrings(member, name, 1, out);
  }
  CutUtf8(out, kMaxContentBytes);
  return out;
}

std::optional<store::TextValue> ParseTextQuery(std::string_view value) {
  store::TextValue query;
  query.groups.emplace_back();
  size_t phrases = 0;
  for (size_t i = 0; i < value.size();) {
    if (IsSpace(value[i])) {
      ++i;
      continue;
    }
    std::string_view phrase;
    bool quoted = value[i] == '"';
    if (quoted) {
      const size_t close = value.find('"', i + 1);
      const size_t end = close == std::string_view::npos ? value.size() : close;
      phrase = value.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      size_t end = i;
      while (end < value.size() && !IsSpace(value[end])) ++end;
      phrase = value.substr(i, end - i);
      i = end;
    }
    if (!quoted && phrase == "OR") {
      if (!query.groups.back().empty()) query.groups.emplace_back();
      continue;
    }
    if (!quoted && phrase == "AND") continue;
    if (!HasWordCharacter(phrase)) continue;
    if (++phrases > kMaxTextPhrases) return std::nullopt;
    query.groups.back().emplace_back(phrase);
  }
  if (query.groups.back().empty()) query.groups.pop_back();
  if (query.groups.empty()) return std::nullopt;
  return query;
}

}  // namespace ehr::search
