#include "fhir/patch/json_patch.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ehr::fhir {
namespace {

using json::Value;

// ---- JSON Pointer (RFC 6901) ----

struct Pointer {
  std::string text;                 // as written in the patch, for diagnostics
  std::vector<std::string> tokens;  // unescaped reference tokens
};

// Parses a pointer; nullopt (with `why`) when the syntax is wrong.
std::optional<Pointer> ParsePointer(std::string_view text, std::string* why) {
  Pointer p;
  p.text = std::string(text);
  if (text.empty()) return p;  // the whole document
  if (text.front() != '/') {
    *why = "must be empty or start with '/'";
    return std::nullopt;
  }
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      p.tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (text[i] != '~') {
      token += text[i];
      continue;
    }
    // '~' must be followed by '0' (for '~') or '1' (for '/'); ~01 is therefore "~1".
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (next != '0' && next != '1') {
      *why = "'~' must be followed by '0' or '1'";
      return std::nullopt;
    }
    token += next == '0' ? '~' : '/';
    ++i;
  }
  return p;
}

std::string EscapeToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// The pointer text of the first `n` tokens, for diagnostics.
std::string PrefixText(const std::vector<std::string>& tokens, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += "/" + EscapeToken(tokens[i]);
  return out;
}

bool IsProperPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& of) {
  return prefix.size() < of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

// An array index token: digits without a leading zero, or "-" (one past the end) when
// `allow_end`. `size` is the array's size; the end position is allowed only with `allow_end`.
std::optional<size_t> ArrayIndex(std::string_view token, size_t size, bool allow_end, std::string* why) {
  if (token == "-") {
    if (allow_end) return size;
    *why = "'-' names no existing array element";
    return std::nullopt;
  }
  bool digits = !token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (token.size() > 1 && token[0] == '0')) {
    *why = "'" + std::string(token) + "' is not an array index";
    return std::nullopt;
  }
  // Any index longer than 18 digits is out of range for every array that fits in memory.
  if (token.size() > 18) {
    *why = "array index " + std::string(token) + " is out of range";
    return std::nullopt;
  }
  uint64_t index = 0;
  for (char c : token) index = index * 10 + static_cast<uint64_t>(c - '0');
  if (index > size || (index == size && !allow_end)) {
    *why = "array index " + std::string(token) + " is out of range (size " + std::to_string(size) + ")";
    return std::nullopt;
  }
  return static_cast<size_t>(index);
}

// Resolves the first `n` tokens of `tokens` from `root`; nullptr with `why` when absent.
Value* Walk(Value& root, const std::vector<std::string>& tokens, size_t n, std::string* why) {
  Value* at = &root;
  for (size_t i = 0; i < n; ++i) {
    const std::string& token = tokens[i];
    if (at->is_object()) {
      at = at->Find(token);
      if (at == nullptr) {
        *why = "'" + PrefixText(tokens, i) + "' has no member '" + token + "'";
        return nullptr;
      }
    } else if (at->is_array()) {
      std::optional<size_t> index = ArrayIndex(token, at->as_array().size(), false, why);
      if (!index) {
        *why = "at '" + PrefixText(tokens, i) + "': " + *why;
        return nullptr;
      }
      at = &at->as_array()[*index];
    } else {
      *why = "'" + PrefixText(tokens, i) + "' is neither an object nor an array";
      return nullptr;
    }
  }
  return at;
}

// ---- limits ----

struct Shape {
  int depth = 0;      // nested arrays/objects, the value itself included
  size_t count = 0;   // values, the value itself included
};

Shape Measure(const Value& v) {
  Shape s{0, 1};
  int child_depth = 0;
  if (v.is_array()) {
    for (const Value& e : v.as_array()) {
      Shape c = Measure(e);
      child_depth = std::max(child_depth, c.depth);
      s.count += c.count;
    }
    s.depth = child_depth + 1;
  } else if (v.is_object()) {
    for (const auto& m : v.as_object()) {
      Shape c = Measure(m.second);
      child_depth = std::max(child_depth, c.depth);
      s.count += c.count;
    }
    s.depth = child_depth + 1;
  }
  return s;
}

// ---- operations ----

enum class OpKind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };

struct Operation {
  OpKind kind = OpKind::kTest;
  std::string name;
  Pointer path;
  Pointer from;                   // move and copy only
  const Value* value = nullptr;   // add, replace and test only; points into the patch
};

std::string Describe(size_t index, std::string_view name) {
  std::string out = "JSON Patch operation " + std::to_string(index);
  if (!name.empty()) out += " (" + std::string(name) + ")";
  return out;
}

Status Malformed(size_t index, std::string_view name, const std::string& what) {
  return Status::Invalid(Describe(index, name) + ": " + what);
}

Status Unappliable(size_t index, const Operation& op, const std::string& what) {
  return Status::Unprocessable(Describe(index, op.name) + ": " + what);
}

Status ParsePointerMember(const Value& op_value, std::string_view member, size_t index, std::string_view name,
                          Pointer* out) {
  const Value* v = op_value.Find(member);
  if (v == nullptr) return Malformed(index, name, "missing \"" + std::string(member) + "\"");
  if (!v->is_string()) return Malformed(index, name, "\"" + std::string(member) + "\" must be a string");
  std::string why;
  std::optional<Pointer> p = ParsePointer(v->as_string(), &why);
  if (!p) return Malformed(index, name, "\"" + std::string(member) + "\" '" + v->as_string() + "' is not a JSON Pointer: " + why);
  *out = std::move(*p);
  return Status::Ok();
}

Result<Operation> ParseOperation(const Value& v, size_t index) {
  if (!v.is_object()) return Malformed(index, "", "must be an object");
  const Value* op = v.Find("op");
  if (op == nullptr) return Malformed(index, "", "missing \"op\"");
  if (!op->is_string()) return Malformed(index, "", "\"op\" must be a string");
  static constexpr std::pair<std::string_view, OpKind> kKinds[] = {
      {"add", OpKind::kAdd},   {"remove", OpKind::kRemove}, {"replace", OpKind::kReplace},
      {"move", OpKind::kMove}, {"copy", OpKind::kCopy},     {"test", OpKind::kTest},
  };
  auto kind = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& k) { return k.first == op->as_string(); });
  if (kind == std::end(kKinds)) return Malformed(index, "", "unknown op '" + op->as_string() + "'");

  Operation out;
  out.kind = kind->second;
  out.name = op->as_string();
  EHR_RETURN_IF_ERROR(ParsePointerMember(v, "path", index, out.name, &out.path));
  if (out.kind == OpKind::kMove || out.kind == OpKind::kCopy) {
    EHR_RETURN_IF_ERROR(ParsePointerMember(v, "from", index, out.name, &out.from));
  }
  if (out.kind == OpKind::kAdd || out.kind == OpKind::kReplace || out.kind == OpKind::kTest) {
    out.value = v.Find("value");
    if (out.value == nullptr) return Malformed(index, out.name, "missing \"value\"");
  }
  if (out.kind == OpKind::kMove && IsProperPrefix(out.from.tokens, out.path.tokens)) {
    return Malformed(index, out.name, "cannot move '" + out.from.text + "' into its own child '" + out.path.text + "'");
  }
  return out;
}

// Applies operations one by one to a document it does not own.
class Applier {
 public:
  Applier(Value& doc, const JsonPatchLimits& limits) : doc_(doc), limits_(limits) {}

  Status Apply(const Operation& op, size_t index) {
    index_ = index;
    op_ = &op;
    switch (op.kind) {
      case OpKind::kAdd: return Add(op.path, *op.value, Shape{});
      case OpKind::kRemove: {
        Value removed;
        return Remove(op.path, &removed);
      }
      case OpKind::kReplace: return Replace();
      case OpKind::kMove: return Move();
      case OpKind::kCopy: return Copy();
      case OpKind::kTest: return Test();
    }
    return Status::Internal("unknown JSON Patch operation kind");
  }

 private:
  Status Fail(const std::string& what) const { return Unappliable(index_, *op_, what); }

  Status CheckDepth(const Pointer& path, const Shape& shape) const {
    if (static_cast<int64_t>(path.tokens.size()) + shape.depth > limits_.max_depth) {
      return Fail("the result would be nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    return Status::Ok();
  }

  // Inserts `v` at `path`. `shape` is v's shape when already measured (depth > 0 or count > 0).
  Status Add(const Pointer& path, Value v, Shape shape) {
    if (shape.count == 0) shape = Measure(v);
    EHR_RETURN_IF_ERROR(CheckDepth(path, shape));
    if (path.tokens.empty()) {
      doc_ = std::move(v);
      return Status::Ok();
    }
    std::string why;
    Value* parent = Walk(doc_, path.tokens, path.tokens.size() - 1, &why);
    if (parent == nullptr) return Fail("the parent of path '" + path.text + "' does not exist: " + why);
    const std::string& last = path.tokens.back();
    if (parent->is_object()) {
      parent->Set(last, std::move(v));  // replaces an existing member, as RFC 6902 4.1 says
    } else if (parent->is_array()) {
      json::Array& array = parent->as_array();
      std::optional<size_t> at = ArrayIndex(last, array.size(), true, &why);
      if (!at) return Fail("path '" + path.text + "': " + why);
      array.insert(array.begin() + static_cast<std::ptrdiff_t>(*at), std::move(v));
    } else {
      return Fail("the parent of path '" + path.text + "' is neither an object nor an array");
    }
    return Status::Ok();
  }

  // Removes the value at `path` into `removed`.
  Status Remove(const Pointer& path, Value* removed) {
    if (path.tokens.empty()) return Fail("cannot remove the whole document");
    std::string why;
    Value* parent = Walk(doc_, path.tokens, path.tokens.size() - 1, &why);
    if (parent == nullptr) return Fail("path '" + path.text + "' does not exist: " + why);
    const std::string& last = path.tokens.back();
    if (parent->is_object()) {
      Value* member = parent->Find(last);
      if (member == nullptr) return Fail("path '" + path.text + "' does not exist");
      *removed = std::move(*member);
      parent->Remove(last);
    } else if (parent->is_array()) {
      json::Array& array = parent->as_array();
      std::optional<size_t> at = ArrayIndex(last, array.size(), false, &why);
      if (!at) return Fail("path '" + path.text + "': " + why);
      *removed = std::move(array[*at]);
      array.erase(array.begin() + static_cast<std::ptrdiff_t>(*at));
    } else {
      return Fail("path '" + path.text + "' does not exist: its parent is neither an object nor an array");
    }
    return Status::Ok();
  }

  Value* Existing(const Pointer& path, std::string* why) { return Walk(doc_, path.tokens, path.tokens.size(), why); }

  Status Replace() {
    std::string why;
    Value* at = Existing(op_->path, &why);
    if (at == nullptr) return Fail("path '" + op_->path.text + "' does not exist: " + why);
    EHR_RETURN_IF_ERROR(CheckDepth(op_->path, Measure(*op_->value)));
    *at = *op_->value;
    return Status::Ok();
  }

  Status Move() {
    std::string why;
    Value* source = Existing(op_->from, &why);
    if (source == nullptr) return Fail("from '" + op_->from.text + "' does not exist: " + why);
    if (op_->from.tokens == op_->path.tokens) return Status::Ok();
    Shape shape = Measure(*source);
    EHR_RETURN_IF_ERROR(CheckDepth(op_->path, shape));
    Value moved;
    EHR_RETURN_IF_ERROR(Remove(op_->from, &moved));
    return Add(op_->path, std::move(moved), shape);
  }

  Status Copy() {
    std::string why;
    const Value* source = Existing(op_->from, &why);
    if (source == nullptr) return Fail("from '" + op_->from.text + "' does not exist: " + why);
    Shape shape = Measure(*source);
    if (shape.count > limits_.max_copied_values - copied_values_) {
      return Fail("the patch copies more than " + std::to_string(limits_.max_copied_values) + " values");
    }
    copied_values_ += shape.count;
    return Add(op_->path, *source, shape);  // copies before inserting: copying into a child is fine
  }

  Status Test() {
    std::string why;
    const Value* at = Existing(op_->path, &why);
    if (at == nullptr) return Fail("path '" + op_->path.text + "' does not exist: " + why);
    // The values themselves stay out of the message: they may be patient data.
    if (!(*at == *op_->value)) return Fail("test failed: the value at '" + op_->path.text + "' differs");
    return Status::Ok();
  }

  Value& doc_;
  const JsonPatchLimits& limits_;
  size_t index_ = 0;
  const Operation* op_ = nullptr;
  size_t copied_values_ = 0;
};

}  // namespace

Status ApplyJsonPatch(json::Value& target, const json::Value& patch, const JsonPatchLimits& limits) {
  if (!patch.is_array()) return Status::Invalid("a JSON Patch document must be an array of operations");
  // Parse every operation first, so a malformed patch is reported as such (400) whatever
  // the document, and nothing is applied.
  std::vector<Operation> ops;
  ops.reserve(patch.as_array().size());
  for (size_t i = 0; i < patch.as_array().size(); ++i) {
    EHR_ASSIGN_OR_RETURN(Operation op, ParseOperation(patch.as_array()[i], i));
    ops.push_back(std::move(op));
  }
  // Work on a copy so that a failure part way leaves `target` untouched. Resources are
  // small next to the cost of serialising them again, and undo logs for move/copy would be
  // far more code to get right.
  Value work = target;
  Applier applier(work, limits);
  for (size_t i = 0; i < ops.size(); ++i) {
    EHR_RETURN_IF_ERROR(applier.Apply(ops[i], i));
  }
  target = std::move(work);
  return Status::Ok();
}

}  // namespace ehr::fhir
