#include "audit/merkle.h"

#include "core/secrets.h"

namespace ehr::audit {
namespace {

Status Invalid(std::string message) { return Status::Invalid("merkle: " + std::move(message)); }

// The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree.
uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

bool PowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

int Log2(uint64_t n) {
  int l = 0;
  while ((uint64_t{1} << l) < n) ++l;
  return l;
}

// MTH(D[begin:end]). Every range the recursion meets starts at a multiple of the largest
// power of two not above its size, so a range of 2^l leaves is complete subtree (l, begin >> l).
std::string Root(uint64_t begin, uint64_t end, const NodeAt& node) {
  const uint64_t n = end - begin;
  if (PowerOfTwo(n)) {
    const int level = Log2(n);
    return node(level, begin >> level);
  }
  const uint64_t k = Split(n);
  return NodeHash(Root(begin, begin + k, node), Root(begin + k, end, node));
}

// PATH(m, D[begin:end]), RFC 6962 2.1.1.
void Path(uint64_t m, uint64_t begin, uint64_t end, const NodeAt& node, std::vector<std::string>& out) {
  if (end - begin <= 1) return;
  const uint64_t k = Split(end - begin);
  if (m < k) {
    Path(m, begin, begin + k, node, out);
    out.push_back(Root(begin + k, end, node));
  } else {
    Path(m - k, begin + k, end, node, out);
    out.push_back(Root(begin, begin + k, node));
  }
}

// SUBPROOF(m, D[begin:end], complete), RFC 6962 2.1.2.
void Subproof(uint64_t m, uint64_t begin, uint64_t end, bool complete, const NodeAt& node,
              std::vector<std::string>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete) out.push_back(Root(begin, end, node));
    return;
  }
  const uint64_t k = Split(n);
  if (m <= k) {
    Subproof(m, begin, begin + k, complete, node, out);
    out.push_back(Root(begin + k, end, node));
  } else {
    Subproof(m - k, begin + k, end, false, node, out);
    out.push_back(Root(begin, begin + k, node));
  }
}

// Complete subtrees from the leaves themselves.
NodeAt FromLeaves(const LeafAt& leaf) {
  return [&leaf](int level, uint64_t index) {
    std::function<std::string(int, uint64_t)> at = [&](int l, uint64_t i) -> std::string {
      if (l == 0) return leaf(i);
      return NodeHash(at(l - 1, 2 * i), at(l - 1, 2 * i + 1));
    };
    return at(level, index);
  };
}

bool AllHashes(const std::vector<std::string>& hashes) {
  for (const std::string& h : hashes) {
    if (h.size() != kHashBytes) return false;
  }
  return true;
}

// Shifts fn and sn right together until fn's lowest bit is set or fn is 0.
void ShiftWhileEven(uint64_t& fn, uint64_t& sn) {
  while (fn != 0 && (fn & 1) == 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

std::string LeafHash(std::string_view entry) {
  std::string input(1, '\x00');
  input.append(entry);
  return Sha256(input);
}

std::string NodeHash(std::string_view left, std::string_view right) {
  std::string input(1, '\x01');
  input.append(left);
  input.append(right);
  return Sha256(input);
}

std::string RootOf(uint64_t size, const NodeAt& node) {
  if (size == 0) return Sha256("");
  return Root(0, size, node);
}

std::vector<std::string> InclusionProof(uint64_t index, uint64_t size, const NodeAt& node) {
  std::vector<std::string> out;
  if (index < size) Path(index, 0, size, node, out);
  return out;
}

std::vector<std::string> ConsistencyProof(uint64_t first, uint64_t second, const NodeAt& node) {
  std::vector<std::string> out;
  if (first > 0 && first < second) Subproof(first, 0, second, true, node, out);
  return out;
}

std::string RootOf(uint64_t size, const LeafAt& leaf) { return RootOf(size, FromLeaves(leaf)); }

std::vector<std::string> InclusionProof(uint64_t index, uint64_t size, const LeafAt& leaf) {
  return InclusionProof(index, size, FromLeaves(leaf));
}

std::vector<std::string> ConsistencyProof(uint64_t first, uint64_t second, const LeafAt& leaf) {
  return ConsistencyProof(first, second, FromLeaves(leaf));
}

void Frontier::Append(std::string leaf, const std::function<void(int, uint64_t, const std::string&)>& made) {
  const uint64_t index = size_++;
  std::string hash = std::move(leaf);
  // Each trailing one bit of the old size is a peak of the same level to merge with.
  int level = 0;
  for (uint64_t bits = index; (bits & 1) != 0; bits >>= 1) {
    hash = NodeHash(peaks_.back(), hash);
    peaks_.pop_back();
    ++level;
    if (made) made(level, index >> level, hash);
  }
  peaks_.push_back(std::move(hash));
}

void Frontier::AppendSubtree(int level, std::string hash,
                             const std::function<void(int, uint64_t, const std::string&)>& made) {
  const uint64_t first = size_;
  size_ += uint64_t{1} << level;
  for (uint64_t bits = first >> level; (bits & 1) != 0; bits >>= 1) {
    hash = NodeHash(peaks_.back(), hash);
    peaks_.pop_back();
    ++level;
    if (made) made(level, first >> level, hash);
  }
  peaks_.push_back(std::move(hash));
}

std::string Frontier::Root() const {
  if (peaks_.empty()) return Sha256("");
  std::string root = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) root = NodeHash(peaks_[i], root);
  return root;
}

// RFC 9162 2.1.3.2.
Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf, const std::vector<std::string>& proof,
                       std::string_view root) {
  if (index >= size) return Invalid("the leaf index is not within the tree");
  if (leaf.size() != kHashBytes || root.size() != kHashBytes || !AllHashes(proof)) {
    return Invalid("a hash is not 32 bytes");
  }
  uint64_t fn = index, sn = size - 1;
  std::string r(leaf);
  for (const std::string& p : proof) {
    if (sn == 0) return Invalid("the proof is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("the proof is shorter than the tree is deep");
  if (r != root) return Invalid("the proof does not lead to the root");
  return Status::Ok();
}

// RFC 9162 2.1.4.2.
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::string_view root1, std::string_view root2,
                         const std::vector<std::string>& proof) {
  if (size1 > size2) return Invalid("the first tree is larger than the second");
  if (size1 == 0) return Invalid("every tree extends the empty tree: nothing to prove");
  if (size1 == size2) {  // the same tree: the roots say it, whatever they are
    if (!proof.empty()) return Invalid("trees of one size need an empty proof");
    if (root1 != root2) return Invalid("trees of one size have different roots");
    return Status::Ok();
  }
  if (root1.size() != kHashBytes || root2.size() != kHashBytes || !AllHashes(proof)) {
    return Invalid("a hash is not 32 bytes");
  }
  if (proof.empty()) return Invalid("the proof is empty");
  std::vector<std::string> path;
  if ((size1 & (size1 - 1)) == 0) path.emplace_back(root1);  // a complete subtree: its root starts the path
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return Invalid("the proof is longer than the trees need");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Invalid("the proof is shorter than the trees need");
  if (fr != root1) return Invalid("the proof does not lead to the first root");
  if (sr != root2) return Invalid("the proof does not lead to the second root");
  return Status::Ok();
}

}  // namespace ehr::audit
