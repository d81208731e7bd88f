#include "mpi/witness_wire.h"

#include "core/base64.h"

namespace ehr::mpi {
namespace {

// A proof of a tree of at most 2^64 leaves has at most 2 * 64 hashes; 64 is plenty for any
// log that fits a disk (a proof between sizes below 2^32 has at most 64).
constexpr size_t kMaxProofHashes = 64;

Result<uint64_t> Unsigned(const json::Value& o, const char* name) {
  const json::Value* v = o.Find(name);
  std::optional<int64_t> n = v != nullptr && v->is_number() && v->is_integer_text() ? v->as_int64() : std::nullopt;
  if (!n || *n < 0) return Status::Invalid(std::string(name) + " must be a non-negative integer", name);
  return static_cast<uint64_t>(*n);
}

Result<std::string> Bytes(const json::Value& o, const char* name, size_t size) {
  const json::Value* v = o.Find(name);
  std::optional<std::string> bytes = v != nullptr && v->is_string() ? Base64Decode(v->as_string()) : std::nullopt;
  if (!bytes || bytes->size() != size) {
    return Status::Invalid(std::string(name) + " must be " + std::to_string(size) + " bytes in base64", name);
  }
  return *bytes;
}

Result<audit::WitnessedHead> HeadOf(const json::Value& o) {
  audit::WitnessedHead h;
  EHR_ASSIGN_OR_RETURN(h.head.size, Unsigned(o, "tree_size"));
  EHR_ASSIGN_OR_RETURN(h.head.timestamp_ms, Unsigned(o, "timestamp"));
  EHR_ASSIGN_OR_RETURN(h.head.root, Bytes(o, "sha256_root_hash", 32));
  EHR_ASSIGN_OR_RETURN(h.head.signature, Bytes(o, "tree_head_signature", 64));
  EHR_ASSIGN_OR_RETURN(h.public_key, Bytes(o, "public_key", 32));
  return h;
}

Result<json::Value> Object(std::string_view body) {
  Result<json::Value> parsed = json::Parse(body);
  if (!parsed.ok() || !parsed->is_object()) return Status::Invalid("the body must be a JSON object");
  return parsed;
}

}  // namespace

json::Value WitnessedHeadJson(const audit::WitnessedHead& h) {
  json::Value o = json::Value::MakeObject();
  o.Set("tree_size", json::Value::MakeInt(static_cast<int64_t>(h.head.size)));
  o.Set("timestamp", json::Value::MakeInt(static_cast<int64_t>(h.head.timestamp_ms)));
  o.Set("sha256_root_hash", json::Value(Base64Encode(h.head.root)));
  o.Set("tree_head_signature", json::Value(Base64Encode(h.head.signature)));
  o.Set("public_key", json::Value(Base64Encode(h.public_key)));
  return o;
}

std::string WriteWitnessSubmission(const WitnessSubmission& s) {
  json::Value o = WitnessedHeadJson(s.head);
  o.Set("first", json::Value::MakeInt(static_cast<int64_t>(s.first)));
  json::Value proof = json::Value::MakeArray();
  for (const std::string& hash : s.consistency) proof.as_array().push_back(json::Value(Base64Encode(hash)));
  o.Set("consistency", std::move(proof));
  return json::Write(o);
}

Result<WitnessSubmission> ParseWitnessSubmission(std::string_view body) {
  EHR_ASSIGN_OR_RETURN(json::Value o, Object(body));
  WitnessSubmission s;
  EHR_ASSIGN_OR_RETURN(s.head, HeadOf(o));
  EHR_ASSIGN_OR_RETURN(s.first, Unsigned(o, "first"));
  const json::Value* proof = o.Find("consistency");
  if (proof == nullptr || !proof->is_array() || proof->as_array().size() > kMaxProofHashes) {
    return Status::Invalid("consistency must be an array of at most " + std::to_string(kMaxProofHashes) + " hashes",
                           "consistency");
  }
  for (const json::Value& hash : proof->as_array()) {
    std::optional<std::string> bytes = hash.is_string() ? Base64Decode(hash.as_string()) : std::nullopt;
    if (!bytes || bytes->size() != 32) return Status::Invalid("consistency holds 32-byte hashes in base64", "consistency");
    s.consistency.push_back(std::move(*bytes));
  }
  return s;
}

Result<audit::WitnessedHead> ParseWitnessedHead(std::string_view body) {
  EHR_ASSIGN_OR_RETURN(json::Value o, Object(body));
  return HeadOf(o);
}

}  // namespace ehr::mpi
