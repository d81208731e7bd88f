#include "keys/pkcs11_keys.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "keys/aead.h"
#include "keys/softhsm_test_util.h"

// Last: the header leaves compatibility macros defined (pkcs11_keys.cc).
#include <p11-kit/pkcs11.h>

namespace ehr::keys {
namespace {

using testing::SoftHsmToken;

class Pkcs11KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = SoftHsmToken::Start();
    ASSERT_TRUE(started.ok()) << started.status().message();
    token_.emplace(std::move(*started));
  }

  Pkcs11Options Options() const {
    Pkcs11Options options;
    options.module_path = token_->module_path();
    options.token_label = token_->label();
    options.pin = token_->pin();
    return options;
  }

  std::unique_ptr<Pkcs11Keys> OpenOrDie(const Pkcs11Options& options) {
    auto keys = Pkcs11Keys::Open(options);
    EXPECT_TRUE(keys.ok()) << keys.status().message();
    return keys.ok() ? std::move(*keys) : nullptr;
  }

  std::optional<SoftHsmToken> token_;
};

TEST_F(Pkcs11KeysTest, GcmOnTheTokenRoundTripsAndRefusesTampering) {
  auto keys = OpenOrDie(Options());
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->CurrentId(), "pkcs11:ehr-kek-1");

  const std::string data_key(32, '\x5a');
  auto wrapped = keys->Wrap(data_key, "tenant a/1");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().message();
  EXPECT_EQ(wrapped->kek_id, "pkcs11:ehr-kek-1");
  // keys::Seal's layout: a 12-byte IV, the ciphertext, a 16-byte tag.
  ASSERT_EQ(wrapped->bytes.size(), kSealOverhead + data_key.size());
  EXPECT_EQ(wrapped->bytes.find(data_key), std::string::npos);
  auto unwrapped = keys->Unwrap(wrapped->kek_id, wrapped->bytes, "tenant a/1");
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().message();
  EXPECT_EQ(*unwrapped, data_key);

  // A fresh IV every time.
  auto again = keys->Wrap(data_key, "tenant a/1");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->bytes.substr(0, kNonceBytes), wrapped->bytes.substr(0, kNonceBytes));

  // The AAD is authenticated: the same bytes under another use do not unwrap.
  auto other_aad = keys->Unwrap(wrapped->kek_id, wrapped->bytes, "tenant b/1");
  EXPECT_EQ(other_aad.status().code(), Code::kInternal);
  EXPECT_NE(other_aad.status().message().find("does not authenticate"), std::string::npos)
      << other_aad.status().message();

  // One flipped bit anywhere (IV, ciphertext, tag) is refused; so is a truncated value.
  for (size_t at : {size_t{0}, kNonceBytes + 3, wrapped->bytes.size() - 1}) {
    std::string flipped = wrapped->bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    auto refused = keys->Unwrap(wrapped->kek_id, flipped, "tenant a/1");
    EXPECT_EQ(refused.status().code(), Code::kInternal) << "flipped byte " << at;
    EXPECT_NE(refused.status().message().find("does not authenticate"), std::string::npos);
  }
  EXPECT_FALSE(keys->Unwrap(wrapped->kek_id, wrapped->bytes.substr(0, kSealOverhead - 1), "tenant a/1").ok());

  // An empty key and the largest one (64 bytes) round-trip too.
  for (const std::string& key : {std::string(), std::string(64, '\x01')}) {
    auto w = keys->Wrap(key, "");
    ASSERT_TRUE(w.ok()) << w.status().message();
    auto u = keys->Unwrap(w->kek_id, w->bytes, "");
    ASSERT_TRUE(u.ok()) << u.status().message();
    EXPECT_EQ(*u, key);
  }

  // Ids that are not versions on this token.
  for (const char* id : {"pkcs11:ehr-kek-9", "file:1", "pkcs11:other-1", "pkcs11:ehr-kek-01", "pkcs11:ehr-kek-"}) {
    EXPECT_EQ(keys->Unwrap(id, wrapped->bytes, "tenant a/1").status().code(), Code::kNotFound) << id;
  }
}

TEST_F(Pkcs11KeysTest, RotationKeepsOldVersionsAndOtherInstancesSeeIt) {
  auto server = OpenOrDie(Options());
  ASSERT_TRUE(server);
  // Opened while the token already holds version 1: finds it rather than making another.
  auto cli = OpenOrDie(Options());
  ASSERT_TRUE(cli);
  EXPECT_EQ(cli->CurrentId(), "pkcs11:ehr-kek-1");

  auto first = server->Wrap("data key one", "tenant a/1");
  ASSERT_TRUE(first.ok());
  auto rotated = cli->Rotate();
  ASSERT_TRUE(rotated.ok()) << rotated.status().message();
  EXPECT_EQ(*rotated, "pkcs11:ehr-kek-2");
  EXPECT_EQ(cli->CurrentId(), "pkcs11:ehr-kek-2");
  auto second = cli->Wrap("data key two", "tenant a/2");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->kek_id, "pkcs11:ehr-kek-2");

  // The server has not seen version 2 yet: it finds it on the token.
  auto unwrapped = server->Unwrap(second->kek_id, second->bytes, "tenant a/2");
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().message();
  EXPECT_EQ(*unwrapped, "data key two");
  EXPECT_EQ(*cli->Unwrap(first->kek_id, first->bytes, "tenant a/1"), "data key one");
  // Each version unwraps only its own wraps.
  EXPECT_FALSE(server->Unwrap("pkcs11:ehr-kek-2", first->bytes, "tenant a/1").ok());

  // Rotating from the instance that missed version 2 continues after it.
  auto third = server->Rotate();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, "pkcs11:ehr-kek-3");

  // A later process starts at the newest version; old wraps still unwrap.
  cli.reset();
  server.reset();
  auto restarted = OpenOrDie(Options());
  ASSERT_TRUE(restarted);
  EXPECT_EQ(restarted->CurrentId(), "pkcs11:ehr-kek-3");
  EXPECT_EQ(*restarted->Unwrap(first->kek_id, first->bytes, "tenant a/1"), "data key one");
  EXPECT_EQ(*restarted->Unwrap(second->kek_id, second->bytes, "tenant a/2"), "data key two");

  // Another prefix is another key set on the same token.
  Pkcs11Options other = Options();
  other.key_label_prefix = "other-kek-";
  auto others = OpenOrDie(other);
  ASSERT_TRUE(others);
  EXPECT_EQ(others->CurrentId(), "pkcs11:other-kek-1");
  EXPECT_EQ(others->Unwrap(first->kek_id, first->bytes, "tenant a/1").status().code(), Code::kNotFound);
}

// After a rotation by another instance, a wrap uses the new version; retiring destroys an
// old version on the token (no instance unwraps under it after), never the current one.
TEST_F(Pkcs11KeysTest, WrapsUnderTheNewestVersionAndRetiresOldOnes) {
  auto server = OpenOrDie(Options());
  auto cli = OpenOrDie(Options());
  ASSERT_TRUE(server && cli);
  auto old = server->Wrap("old", "aad");
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(cli->Rotate().ok());
  auto fresh = server->Wrap("new", "aad");
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_EQ(fresh->kek_id, "pkcs11:ehr-kek-2");
  EXPECT_EQ(*cli->Ids(), (std::vector<std::string>{"pkcs11:ehr-kek-1", "pkcs11:ehr-kek-2"}));
  EXPECT_EQ(cli->Retire("pkcs11:ehr-kek-2").code(), Code::kInvalid) << "the current version";
  EXPECT_EQ(cli->Retire("pkcs11:ehr-kek-9").code(), Code::kNotFound);
  ASSERT_TRUE(cli->Retire("pkcs11:ehr-kek-1").ok());
  EXPECT_EQ(*server->Ids(), (std::vector<std::string>{"pkcs11:ehr-kek-2"}));
  EXPECT_FALSE(server->Unwrap(old->kek_id, old->bytes, "aad").ok()) << "destroyed on the token";
  auto restarted = OpenOrDie(Options());
  ASSERT_TRUE(restarted);
  EXPECT_EQ(restarted->Unwrap(old->kek_id, old->bytes, "aad").status().code(), Code::kNotFound);
  EXPECT_EQ(*restarted->Unwrap(fresh->kek_id, fresh->bytes, "aad"), "new");
}

// The token drops every session of the process (as when an HSM restarts or another part
// of the process calls C_CloseAllSessions): each instance opens a new one, logs in again
// and goes on; without that, every call would fail with CKR_SESSION_HANDLE_INVALID.
TEST_F(Pkcs11KeysTest, ASessionTheTokenDroppedIsOpenedAgain) {
  auto server = OpenOrDie(Options());
  auto cli = OpenOrDie(Options());
  ASSERT_TRUE(server && cli);
  auto before = server->Wrap("data key one", "tenant a/1");
  ASSERT_TRUE(before.ok()) << before.status().message();

  auto drop_every_session = [&] {
    void* library = ::dlopen(token_->module_path().c_str(), RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(library, nullptr) << "the module is loaded by the instances";
    auto get_functions = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
    CK_FUNCTION_LIST_PTR fn = nullptr;
    ASSERT_EQ(get_functions(&fn), CKR_OK);
    CK_SLOT_ID slots[8];
    CK_ULONG count = std::size(slots);
    ASSERT_EQ(fn->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (fn->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
      if (label.rfind(token_->label(), 0) == 0) EXPECT_EQ(fn->C_CloseAllSessions(slots[i]), CKR_OK);
    }
    ::dlclose(library);
  };

  drop_every_session();
  auto unwrapped = server->Unwrap(before->kek_id, before->bytes, "tenant a/1");
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().message();
  EXPECT_EQ(*unwrapped, "data key one");
  auto wrapped = cli->Wrap("data key two", "tenant a/2");  // the other instance's session went too
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().message();
  EXPECT_EQ(*server->Unwrap(wrapped->kek_id, wrapped->bytes, "tenant a/2"), "data key two");

  drop_every_session();
  auto rotated = cli->Rotate();
  ASSERT_TRUE(rotated.ok()) << rotated.status().message();
  EXPECT_EQ(*rotated, "pkcs11:ehr-kek-2");
  EXPECT_EQ(*server->Unwrap(before->kek_id, before->bytes, "tenant a/1"), "data key one");
  // Still refused what does not authenticate: reopening is not a way around the tag.
  std::string altered = before->bytes;
  altered.back() ^= 1;
  EXPECT_FALSE(server->Unwrap(before->kek_id, altered, "tenant a/1").ok());

  // Closed normally afterwards (logout and session close of the reopened sessions), and
  // the token opens again.
  cli.reset();
  server.reset();
  auto again = OpenOrDie(Options());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again->Unwrap(before->kek_id, before->bytes, "tenant a/1"), "data key one");
}

TEST_F(Pkcs11KeysTest, WrongPinIsRefusedWithoutShowingIt) {
  Pkcs11Options wrong = Options();
  wrong.pin = "98765";
  auto refused = Pkcs11Keys::Open(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("CKR_PIN_INCORRECT"), std::string::npos) << refused.status().message();
  EXPECT_EQ(refused.status().message().find("98765"), std::string::npos);

  // While another instance holds the process's login, the token would not check a PIN.
  auto open = OpenOrDie(Options());
  ASSERT_TRUE(open);
  refused = Pkcs11Keys::Open(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("CKR_PIN_INCORRECT"), std::string::npos) << refused.status().message();
  // The refused instance did not log the good one out.
  auto wrapped = open->Wrap("k", "aad");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().message();
  EXPECT_EQ(*open->Unwrap(wrapped->kek_id, wrapped->bytes, "aad"), "k");
}

TEST_F(Pkcs11KeysTest, UnknownTokenOrModuleIsRefused) {
  Pkcs11Options options = Options();
  options.token_label = "no-such-token";
  auto refused = Pkcs11Keys::Open(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kNotFound);
  EXPECT_NE(refused.status().message().find("no-such-token"), std::string::npos);

  options = Options();
  options.module_path = "/nonexistent/libpkcs11.so";
  refused = Pkcs11Keys::Open(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("/nonexistent/libpkcs11.so"), std::string::npos);
}

// Reads attributes of the key labelled `label` through a session of the test's own, as an
// attacker with the PIN would.
struct KeyAttributes {
  CK_RV value_rv = CKR_OK;  // of reading CKA_VALUE
  CK_BBOOL extractable = CK_TRUE;
  CK_BBOOL sensitive = CK_FALSE;
  CK_BBOOL on_token = CK_FALSE;
  CK_BBOOL is_private = CK_FALSE;
  CK_ULONG value_len = 0;
};

void ReadKeyAttributes(const SoftHsmToken& token, const std::string& label, KeyAttributes& out) {
  void* library = ::dlopen(token.module_path().c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr);
  auto get_functions = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR fn = nullptr;
  ASSERT_EQ(get_functions(&fn), CKR_OK);
  // A Pkcs11Keys is open, so the module is initialized and the token logged in already.
  ASSERT_EQ(fn->C_Initialize(nullptr), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  CK_SLOT_ID slots[8];
  CK_ULONG count = std::size(slots);
  ASSERT_EQ(fn->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  for (CK_ULONG i = 0; i < count && session == CK_INVALID_HANDLE; ++i) {
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    if (std::string(reinterpret_cast<char*>(info.label), token.label().size()) != token.label()) continue;
    ASSERT_EQ(fn->C_OpenSession(slots[i], CKF_SERIAL_SESSION, nullptr, nullptr, &session), CKR_OK);
  }
  ASSERT_NE(session, CK_INVALID_HANDLE);
  CK_ATTRIBUTE query{CKA_LABEL, const_cast<char*>(label.data()), label.size()};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_ULONG found = 0;
  ASSERT_EQ(fn->C_FindObjectsInit(session, &query, 1), CKR_OK);
  ASSERT_EQ(fn->C_FindObjects(session, &key, 1, &found), CKR_OK);
  ASSERT_EQ(fn->C_FindObjectsFinal(session), CKR_OK);
  ASSERT_EQ(found, 1u) << label;

  unsigned char value[64];
  CK_ATTRIBUTE secret{CKA_VALUE, value, sizeof value};
  out.value_rv = fn->C_GetAttributeValue(session, key, &secret, 1);
  CK_ATTRIBUTE flags[] = {
      {CKA_EXTRACTABLE, &out.extractable, sizeof out.extractable},
      {CKA_SENSITIVE, &out.sensitive, sizeof out.sensitive},
      {CKA_TOKEN, &out.on_token, sizeof out.on_token},
      {CKA_PRIVATE, &out.is_private, sizeof out.is_private},
      {CKA_VALUE_LEN, &out.value_len, sizeof out.value_len},
  };
  EXPECT_EQ(fn->C_GetAttributeValue(session, key, flags, std::size(flags)), CKR_OK);
  EXPECT_EQ(fn->C_CloseSession(session), CKR_OK);
  ::dlclose(library);
}

TEST_F(Pkcs11KeysTest, KeysAreGeneratedOnTheTokenAndNeverLeaveIt) {
  auto keys = OpenOrDie(Options());
  ASSERT_TRUE(keys);
  ASSERT_TRUE(keys->Rotate().ok());
  for (const char* label : {"ehr-kek-1", "ehr-kek-2"}) {
    KeyAttributes attributes;
    ASSERT_NO_FATAL_FAILURE(ReadKeyAttributes(*token_, label, attributes));
    EXPECT_EQ(attributes.value_rv, CKR_ATTRIBUTE_SENSITIVE) << label;
    EXPECT_EQ(attributes.extractable, CK_FALSE) << label;
    EXPECT_EQ(attributes.sensitive, CK_TRUE) << label;
    EXPECT_EQ(attributes.on_token, CK_TRUE) << label;
    EXPECT_EQ(attributes.is_private, CK_TRUE) << label;
    EXPECT_EQ(attributes.value_len, 32u) << label;
  }
}

TEST_F(Pkcs11KeysTest, ThreadsWrapAndUnwrapWhileAnotherRotates) {
  auto keys = OpenOrDie(Options());
  ASSERT_TRUE(keys);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string key = "key " + std::to_string(t) + "/" + std::to_string(i);
        const std::string aad = "tenant " + std::to_string(t);
        auto wrapped = keys->Wrap(key, aad);
        if (!wrapped.ok()) {
          ++failures;
          continue;
        }
        auto unwrapped = keys->Unwrap(wrapped->kek_id, wrapped->bytes, aad);
        if (!unwrapped.ok() || *unwrapped != key) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 3; ++i) {
      if (!keys->Rotate().ok()) ++failures;
    }
  });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(keys->CurrentId(), "pkcs11:ehr-kek-4");
}

TEST(ReadPin, FromAFileWithoutItsNewlineOrFromTheEnvironment) {
  char dir[] = "/tmp/ehr_pin_XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/pin";
  std::ofstream(file) << "12 34\n";
  auto pin = ReadPin(file);
  ASSERT_TRUE(pin.ok()) << pin.status().message();
  EXPECT_EQ(*pin, "12 34");
  std::ofstream(file) << "5678\r\n";
  EXPECT_EQ(*ReadPin(file), "5678");
  std::ofstream(file) << "";
  EXPECT_FALSE(ReadPin(file).ok());
  EXPECT_FALSE(ReadPin(std::string(dir) + "/missing").ok());
  ::unlink(file.c_str());
  ::rmdir(dir);

  ::setenv("EHR_PKCS11_PIN", "from-env", 1);
  EXPECT_EQ(*ReadPin(""), "from-env");
  ::unsetenv("EHR_PKCS11_PIN");
  EXPECT_FALSE(ReadPin("").ok());
}

}  // namespace
}  // namespace ehr::keys
