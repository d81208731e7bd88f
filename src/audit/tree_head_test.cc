// Signed tree heads: Ed25519 as RFC 8032 specifies it (its first test vector), heads that
// verify with the signer's public key, and fail once their size, root, time or signature
// changes, or under another key.
#include "audit/tree_head.h"

#include <gtest/gtest.h>

#include "audit/merkle.h"
#include "core/secrets.h"

namespace ehr::audit {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

TEST(TreeHead, Ed25519MatchesRfc8032) {
  // RFC 8032 7.1, TEST 1 (empty message).
  auto signer = TreeSigner::FromSeed(Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(HexEncode(signer->public_key()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(HexEncode(signer->SignMessage("")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_FALSE(TreeSigner::FromSeed("short").ok());
}

TEST(TreeHead, SignedHeadsVerifyAndAnyChangeFails) {
  auto signer = TreeSigner::Generate();
  ASSERT_TRUE(signer.ok());
  const std::string root = LeafHash("entry");
  const TreeHead head = signer->Sign(42, root, 1795000000000);
  ASSERT_TRUE(VerifyTreeHead(head, signer->public_key()).ok());
  EXPECT_EQ(TreeHeadInput(1, root, 2).size(), 2u + 8 + 8 + 32);
  TreeHead changed = head;
  changed.size = 41;
  EXPECT_FALSE(VerifyTreeHead(changed, signer->public_key()).ok());
  changed = head;
  changed.root = LeafHash("another entry");
  EXPECT_FALSE(VerifyTreeHead(changed, signer->public_key()).ok());
  changed = head;
  changed.timestamp_ms += 1;
  EXPECT_FALSE(VerifyTreeHead(changed, signer->public_key()).ok());
  changed = head;
  changed.signature[10] ^= 0x04;
  EXPECT_FALSE(VerifyTreeHead(changed, signer->public_key()).ok());
  auto other = TreeSigner::Generate();
  EXPECT_FALSE(VerifyTreeHead(head, other->public_key()).ok());
  EXPECT_FALSE(VerifyTreeHead(head, "short").ok());
  // The same seed signs the same: the key survives a restart as its seed.
  auto again = TreeSigner::FromSeed(signer->seed());
  EXPECT_EQ(again->Sign(42, root, 1795000000000).signature, head.signature);
}

}  // namespace
}  // namespace ehr::audit
