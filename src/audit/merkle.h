// The Merkle tree of the audit log: RFC 6962 (RFC 9162 section 2.1) over SHA-256, with
// leaves hashed as SHA-256(0x00 || entry) and nodes as SHA-256(0x01 || left || right), so
// that a leaf can never pass for a node. The root of a log of n entries commits to all
// of them in order; an inclusion proof shows that one entry is in a tree of a given root,
// a consistency proof that a larger tree extends a smaller one (nothing removed, altered
// or reordered). Hashes are 32 raw bytes in std::string.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ehr::audit {

inline constexpr size_t kHashBytes = 32;

std::string LeafHash(std::string_view entry);
std::string NodeHash(std::string_view left, std::string_view right);

// The leaf hashes of a tree, by index (0 <= i < size).
using LeafAt = std::function<std::string(uint64_t index)>;
// The hash of a complete subtree: of 2^level leaves, from leaf index << level (level 0:
// the leaf hash). Every subtree RFC 6962 splits a tree into is one of these, or is split
// further, so a log that keeps them (store/store.h, audit nodes) answers roots and proofs
// with O(log n) of them.
using NodeAt = std::function<std::string(int level, uint64_t index)>;

// The root of the tree of the first `size` leaves (of an empty tree: SHA-256 of nothing).
std::string RootOf(uint64_t size, const LeafAt& leaf);
// The audit path of leaf `index` in the tree of the first `size` leaves (index < size).
std::vector<std::string> InclusionProof(uint64_t index, uint64_t size, const LeafAt& leaf);
// The proof that the tree of the first `first` leaves is a prefix of the tree of `second`
// (0 < first <= second).
std::vector<std::string> ConsistencyProof(uint64_t first, uint64_t second, const LeafAt& leaf);
// The same from complete subtrees.
std::string RootOf(uint64_t size, const NodeAt& node);
std::vector<std::string> InclusionProof(uint64_t index, uint64_t size, const NodeAt& node);
std::vector<std::string> ConsistencyProof(uint64_t first, uint64_t second, const NodeAt& node);

// The complete subtrees a log gains as it grows, one leaf at a time, with the root at any
// size, in O(log n) memory: for recomputing a whole log in one pass (ehr audit verify).
class Frontier {
 public:
  // Appends a leaf hash; calls `made(level, index, hash)` for each complete subtree of
  // level >= 1 it completes.
  void Append(std::string leaf, const std::function<void(int, uint64_t, const std::string&)>& made = nullptr);
  // Appends a complete subtree of 2^level leaves by its hash (the size must be a multiple
  // of 2^level): for going on past leaves that are not at hand (an archived segment).
  void AppendSubtree(int level, std::string hash,
                     const std::function<void(int, uint64_t, const std::string&)>& made = nullptr);
  uint64_t size() const { return size_; }
  std::string Root() const;  // of the leaves appended so far

 private:
  uint64_t size_ = 0;
  std::vector<std::string> peaks_;  // complete subtrees, largest first (one per set bit of size_)
};

// OK when `proof` shows leaf hash `leaf` at `index` in the tree of `size` leaves whose root
// is `root`; kInvalid naming what does not hold otherwise (sizes, lengths, the root).
Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf, const std::vector<std::string>& proof,
                       std::string_view root);
// OK when `proof` shows the tree of `size1` leaves with root `root1` to be a prefix of the
// tree of `size2` leaves with root `root2` (equal sizes: an empty proof and equal roots).
// A first tree of no leaves proves nothing and is refused.
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::string_view root1, std::string_view root2,
                         const std::vector<std::string>& proof);

}  // namespace ehr::audit
