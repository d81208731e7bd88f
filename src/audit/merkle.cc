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

// MTH(D[begin:end]).
std::string Root(uint64_t begin, uint64_t end, const LeafAt& leaf) {
  if (end - begin == 1) return leaf(begin);
  const uint64_t k = Split(end - begin);
  return NodeHash(Root(begin, begin + k, leaf), Root(begin + k, end, leaf));
}

// PATH(m, D[begin:end]), RFC 6962 2.1.1.
void Path(uint64_t m, uint64_t begin, uint64_t end, const LeafAt& leaf, std::vector<std::string>& out) {
  if (end - begin <= 1) return;
  const uint64_t k = Split(end - begin);
  if (m < k) {
    Path(m, begin, begin + k, leaf, out);
    out.push_back(Root(begin + k, end, leaf));
  } else {
    Path(m - k, begin + k, end, leaf, out);
    out.push_back(Root(begin, begin + k, leaf));
  }
}

// SUBPROOF(m, D[begin:end], complete), RFC 6962 2.1.2.
void Subproof(uint64_t m, uint64_t begin, uint64_t end, bool complete, const LeafAt& leaf,
              std::vector<std::string>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete) out.push_back(Root(begin, end, leaf));
    return;
  }
  const uint64_t k = Split(n);
  if (m <= k) {
    Subproof(m, begin, begin + k, complete, leaf, out);
    out.push_back(Root(begin + k, end, leaf));
  } else {
    Subproof(m - k, begin + k, end, false, leaf, out);
    out.push_back(Root(begin, begin + k, leaf));
  }
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

std::string RootOf(uint64_t size, const LeafAt& leaf) {
  if (size == 0) return Sha256("");
  return Root(0, size, leaf);
}

std::vector<std::string> InclusionProof(uint64_t index, uint64_t size, const LeafAt& leaf) {
  std::vector<std::string> out;
  if (index < size) Path(index, 0, size, leaf, out);
  return out;
}

std::vector<std::string> ConsistencyProof(uint64_t first, uint64_t second, const LeafAt& leaf) {
  std::vector<std::string> out;
  if (first > 0 && first < second) Subproof(first, 0, second, true, leaf, out);
  return out;
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
