#include "audit/witness.h"

namespace ehr::audit {

Status CheckExtends(const std::optional<WitnessedHead>& last, const TreeHead& next, std::string_view public_key,
                    const std::vector<std::string>& proof) {
  if (next.size == 0) return Status::Invalid("a witnessed head has at least one entry", "tree_size");
  if (next.root.size() != 32) return Status::Invalid("the root is 32 bytes", "sha256_root_hash");
  if (public_key.size() != 32) return Status::Invalid("the public key is 32 bytes (Ed25519)", "public_key");
  if (!VerifyTreeHead(next, public_key).ok()) {
    return Status::Invalid("the head's signature is not its public key's", "tree_head_signature");
  }
  if (!last) return Status::Ok();
  const TreeHead& held = last->head;
  if (last->public_key != public_key) {
    return Status::Conflict("the head is signed by another key than the heads witnessed before");
  }
  if (next.timestamp_ms < held.timestamp_ms) return Status::Conflict("the head is older than the head witnessed");
  if (next.size < held.size) {
    return Status::Conflict("the log is smaller (" + std::to_string(next.size) + " entries) than the head witnessed (" +
                            std::to_string(held.size) + "): rolled back or truncated");
  }
  if (next.size == held.size) {
    if (next.root != held.root) {
      return Status::Conflict("the root at " + std::to_string(next.size) + " entries is not the witnessed one: rewritten");
    }
    return Status::Ok();
  }
  if (!VerifyConsistency(held.size, next.size, held.root, next.root, proof).ok()) {
    return Status::Conflict("the log of " + std::to_string(next.size) + " entries does not extend the head witnessed at " +
                            std::to_string(held.size) + ": rewritten or forked");
  }
  return Status::Ok();
}

Status LogExtends(const TreeHead& head, uint64_t size, const NodeAt& node) {
  if (head.size > size) {
    return Status::Conflict("the log holds " + std::to_string(size) + " entries, fewer than the " +
                            std::to_string(head.size) + " witnessed: rolled back or truncated");
  }
  if (head.size == 0 || RootOf(head.size, node) != head.root) {
    return Status::Conflict("the log's first " + std::to_string(head.size) +
                            " entries are not those witnessed (another root): rewritten");
  }
  return Status::Ok();
}

}  // namespace ehr::audit
