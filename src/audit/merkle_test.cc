// The audit log's Merkle tree against the RFC 6962 test vectors of ../shared/data/merkle
// (transparency-dev/merkle testdata, Apache-2.0: every happy path passes, every corrupted
// proof fails), and proofs this code makes for trees of 1 to 70 leaves, which verify, and
// fail once any byte of them changes.
#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/base64.h"
#include "fhir/json/value.h"

namespace ehr::audit {
namespace {

std::string VectorsDir() {
  const char* shared = std::getenv("EHR_SHARED_DATA");
  return std::string(shared ? shared : "../shared/data") + "/merkle";
}

json::Value Load(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  auto v = json::Parse(text.str());
  EXPECT_TRUE(v.ok()) << path;
  return v.ok() ? std::move(*v) : json::Value();
}

// Base64 to bytes; a value that is not base64 becomes a string no hash can equal.
std::string Bytes(const json::Value* v) {
  if (v == nullptr || !v->is_string()) return {};
  auto decoded = Base64Decode(v->as_string());
  return decoded ? *decoded : std::string("not base64");
}

std::vector<std::string> Proof(const json::Value& vector) {
  std::vector<std::string> out;
  const json::Value* proof = vector.Find("proof");
  if (proof && proof->is_array()) {
    for (const json::Value& h : proof->as_array()) out.push_back(Bytes(&h));
  }
  return out;
}

// Sizes and indexes are unsigned 64-bit (the vectors use 2^64 - 1).
uint64_t Number(const json::Value& vector, std::string_view key) {
  const json::Value* v = vector.Find(key);
  return v && v->is_number() ? std::stoull(v->number_text()) : 0;
}

std::vector<std::filesystem::path> Files(const std::string& kind) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(VectorsDir() + "/" + kind)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Merkle, InclusionVectors) {
  const auto files = Files("inclusion");
  ASSERT_GE(files.size(), 90u) << "the vectors are missing from " << VectorsDir();
  int happy = 0;
  for (const auto& path : files) {
    const json::Value v = Load(path);
    const bool want_error = v.Find("wantErr")->as_bool();
    const Status st = VerifyInclusion(Number(v, "leafIdx"), Number(v, "treeSize"), Bytes(v.Find("leafHash")), Proof(v),
                                      Bytes(v.Find("root")));
    EXPECT_EQ(st.ok(), !want_error) << path << ": " << v.GetString("desc") << " " << st.message();
    happy += !want_error;
  }
  EXPECT_GE(happy, 5);
}

TEST(Merkle, ConsistencyVectors) {
  const auto files = Files("consistency");
  ASSERT_GE(files.size(), 90u) << "the vectors are missing from " << VectorsDir();
  int happy = 0;
  for (const auto& path : files) {
    const json::Value v = Load(path);
    const bool want_error = v.Find("wantErr")->as_bool();
    const Status st = VerifyConsistency(Number(v, "size1"), Number(v, "size2"), Bytes(v.Find("root1")),
                                        Bytes(v.Find("root2")), Proof(v));
    EXPECT_EQ(st.ok(), !want_error) << path << ": " << v.GetString("desc") << " " << st.message();
    happy += !want_error;
  }
  EXPECT_GE(happy, 5);
}

TEST(Merkle, ProofsItMakesVerifyAndAnyChangeBreaksThem) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 70; ++i) leaves.push_back(LeafHash("entry " + std::to_string(i)));
  const LeafAt at = [&](uint64_t i) { return leaves.at(i); };
  EXPECT_EQ(RootOf(1, at), leaves[0]);
  EXPECT_EQ(RootOf(2, at), NodeHash(leaves[0], leaves[1]));
  EXPECT_EQ(RootOf(3, at), NodeHash(NodeHash(leaves[0], leaves[1]), leaves[2]));
  EXPECT_NE(LeafHash(leaves[0] + leaves[1]), NodeHash(leaves[0], leaves[1])) << "a leaf never passes for a node";
  for (uint64_t size = 1; size <= leaves.size(); ++size) {
    const std::string root = RootOf(size, at);
    for (uint64_t i = 0; i < size; ++i) {
      std::vector<std::string> proof = InclusionProof(i, size, at);
      ASSERT_TRUE(VerifyInclusion(i, size, leaves[i], proof, root).ok()) << i << " of " << size;
      EXPECT_FALSE(VerifyInclusion(i, size, LeafHash("forged"), proof, root).ok());
      if (!proof.empty()) {
        proof[i % proof.size()][static_cast<size_t>(size) % kHashBytes] ^= 0x01;
        EXPECT_FALSE(VerifyInclusion(i, size, leaves[i], proof, root).ok()) << i << " of " << size;
      }
    }
    for (uint64_t first = 1; first <= size; ++first) {
      const std::string first_root = RootOf(first, at);
      std::vector<std::string> proof = ConsistencyProof(first, size, at);
      ASSERT_TRUE(VerifyConsistency(first, size, first_root, root, proof).ok()) << first << " to " << size;
      if (first < size) {
        proof.back()[0] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(first, size, first_root, root, proof).ok()) << first << " to " << size;
        // A first tree that is not a prefix (an entry changed) is not consistent.
        std::vector<std::string> altered = leaves;
        altered[first - 1] = LeafHash("altered");
        const std::string altered_root = RootOf(first, [&](uint64_t i) { return altered.at(i); });
        EXPECT_FALSE(VerifyConsistency(first, size, altered_root, root, ConsistencyProof(first, size, at)).ok());
      }
    }
  }
}

// A Frontier fed the leaves one by one makes exactly the complete subtrees, and the roots,
// that the definition makes; proofs from those stored subtrees equal proofs from leaves.
TEST(Merkle, FrontierAndStoredSubtreesAgreeWithTheDefinition) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 70; ++i) leaves.push_back(LeafHash("entry " + std::to_string(i)));
  const LeafAt at = [&](uint64_t i) { return leaves.at(i); };
  std::map<std::pair<int, uint64_t>, std::string> stored;
  Frontier frontier;
  EXPECT_EQ(frontier.Root(), RootOf(0, at));
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    frontier.Append(leaves[i], [&](int level, uint64_t index, const std::string& hash) {
      EXPECT_TRUE(stored.emplace(std::make_pair(level, index), hash).second) << "made twice";
    });
    ASSERT_EQ(frontier.size(), i + 1);
    ASSERT_EQ(frontier.Root(), RootOf(i + 1, at)) << i + 1;
  }
  // 70 leaves complete 35 + 17 + 8 + 4 + 2 + 1 subtrees above the leaves.
  EXPECT_EQ(stored.size(), 67u);
  const NodeAt node = [&](int level, uint64_t index) {
    if (level == 0) return leaves.at(index);
    auto it = stored.find({level, index});
    EXPECT_NE(it, stored.end()) << "a subtree not complete yet was asked for: " << level << "/" << index;
    return it == stored.end() ? std::string() : it->second;
  };
  for (uint64_t size = 1; size <= leaves.size(); ++size) {
    ASSERT_EQ(RootOf(size, node), RootOf(size, at));
    for (uint64_t i = 0; i < size; i += 7) EXPECT_EQ(InclusionProof(i, size, node), InclusionProof(i, size, at));
    for (uint64_t first = 1; first <= size; first += 5) {
      EXPECT_EQ(ConsistencyProof(first, size, node), ConsistencyProof(first, size, at));
    }
  }
}

}  // namespace
}  // namespace ehr::audit
