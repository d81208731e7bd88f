// The witness's check of a node's heads: a log that grows is accepted with its consistency
// proof; a smaller one, another root at the same size, a fork, a proof from elsewhere,
// another key, an older head and a bad signature are each refused, saying why.
#include "audit/witness.h"

#include <gtest/gtest.h>

namespace ehr::audit {
namespace {

// A log of `n` leaves named by `prefix`, and its heads signed by `signer`.
struct Log {
  std::vector<std::string> leaves;
  explicit Log(uint64_t n, const std::string& prefix = "entry ") {
    for (uint64_t i = 0; i < n; ++i) leaves.push_back(LeafHash(prefix + std::to_string(i)));
  }
  LeafAt Leaves() const {
    return [this](uint64_t i) { return leaves[i]; };
  }
  TreeHead Head(const TreeSigner& signer, uint64_t size, uint64_t time) const {
    return signer.Sign(size, RootOf(size, Leaves()), time);
  }
  std::vector<std::string> Proof(uint64_t from, uint64_t to) const { return ConsistencyProof(from, to, Leaves()); }
};

TEST(Witness, AcceptsALogThatGrowsWithItsProof) {
  auto signer = TreeSigner::Generate();
  ASSERT_TRUE(signer.ok());
  const Log log(40);
  const std::string& key = signer->public_key();
  ASSERT_TRUE(CheckExtends(std::nullopt, log.Head(*signer, 7, 1000), key, {}).ok());
  const WitnessedHead held{log.Head(*signer, 7, 1000), key};
  EXPECT_TRUE(CheckExtends(held, log.Head(*signer, 40, 2000), key, log.Proof(7, 40)).ok());
  EXPECT_TRUE(CheckExtends(held, log.Head(*signer, 7, 1500), key, {}).ok());  // the same tree, signed again
  // And what an auditor checks against a log: it holds the witnessed head.
  auto nodes = [&](int level, uint64_t index) {
    uint64_t width = uint64_t{1} << level;
    return RootOf(width, [&](uint64_t i) { return log.leaves[index * width + i]; });
  };
  EXPECT_TRUE(LogExtends(held.head, 40, nodes).ok());
  EXPECT_EQ(LogExtends(held.head, 6, nodes).code(), Code::kConflict);
  const Log rewritten(40, "changed ");
  auto other_nodes = [&](int level, uint64_t index) {
    uint64_t width = uint64_t{1} << level;
    return RootOf(width, [&](uint64_t i) { return rewritten.leaves[index * width + i]; });
  };
  EXPECT_EQ(LogExtends(held.head, 40, other_nodes).code(), Code::kConflict);
}

TEST(Witness, RefusesARolledBackRewrittenOrForkedLog) {
  auto signer = TreeSigner::Generate();
  const Log log(40);
  const std::string& key = signer->public_key();
  const WitnessedHead held{log.Head(*signer, 20, 1000), key};
  // Smaller: rolled back.
  Status smaller = CheckExtends(held, log.Head(*signer, 19, 2000), key, {});
  EXPECT_EQ(smaller.code(), Code::kConflict);
  EXPECT_NE(smaller.message().find("rolled back"), std::string::npos) << smaller.message();
  // Another root at the same size: rewritten.
  const Log fork(40, "forked ");
  EXPECT_EQ(CheckExtends(held, fork.Head(*signer, 20, 2000), key, {}).code(), Code::kConflict);
  // A larger fork, with the fork's own (valid for it) proof: not consistent with what is held.
  EXPECT_EQ(CheckExtends(held, fork.Head(*signer, 30, 2000), key, fork.Proof(20, 30)).code(), Code::kConflict);
  // The right log with a proof from another size, or none.
  EXPECT_EQ(CheckExtends(held, log.Head(*signer, 30, 2000), key, log.Proof(19, 30)).code(), Code::kConflict);
  EXPECT_EQ(CheckExtends(held, log.Head(*signer, 30, 2000), key, {}).code(), Code::kConflict);
  // Older than the head held.
  EXPECT_EQ(CheckExtends(held, log.Head(*signer, 30, 999), key, log.Proof(20, 30)).code(), Code::kConflict);
  // Another key (a node that replaced its signing key, or someone else's heads).
  auto other = TreeSigner::Generate();
  EXPECT_EQ(CheckExtends(held, log.Head(*other, 30, 2000), other->public_key(), log.Proof(20, 30)).code(),
            Code::kConflict);
  // Malformed: a signature that is not the key's, an empty log.
  TreeHead bad = log.Head(*signer, 30, 2000);
  bad.signature[3] ^= 1;
  EXPECT_EQ(CheckExtends(held, bad, key, log.Proof(20, 30)).code(), Code::kInvalid);
  EXPECT_EQ(CheckExtends(std::nullopt, bad, key, {}).code(), Code::kInvalid);
  EXPECT_EQ(CheckExtends(std::nullopt, signer->Sign(0, std::string(32, '\0'), 5), key, {}).code(), Code::kInvalid);
}

}  // namespace
}  // namespace ehr::audit
