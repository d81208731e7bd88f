#include "keys/pkcs11_keys.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/log.h"
#include "core/secrets.h"
#include "keys/aead.h"

// Last: in its default (CRYPTOKI_COMPAT) mode the header leaves macros such as iv_len and
// tag_bits defined, so no header may follow it.
#include <p11-kit/pkcs11.h>

// SoftHSM2 2.6 refuses a CK_GCM_PARAMS whose size is not that of its own v2.40 struct
// (pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits): 2.6.1 answers CKR_ARGUMENTS_BAD to a
// struct 8 bytes short, the layout of headers without ulIvBits. The p11-kit header has the
// v2.40 members in the same order; the GCM tests show the token accepts it.
static_assert(sizeof(CK_GCM_PARAMS) == 6 * sizeof(CK_ULONG), "CK_GCM_PARAMS is not the PKCS#11 v2.40 struct");
static_assert(offsetof(CK_GCM_PARAMS, ulIvBits) == 2 * sizeof(CK_ULONG), "CK_GCM_PARAMS lacks ulIvBits");
static_assert(offsetof(CK_GCM_PARAMS, ulTagBits) == 5 * sizeof(CK_ULONG), "CK_GCM_PARAMS is not v2.40");

namespace ehr::keys {

// One loaded module. Instances of Pkcs11Keys that name the same library share it, since
// a module is initialized once per process and its login state is per process too.
struct Pkcs11Module {
  struct Login {
    int references = 0;
    std::string pin_digest;  // SHA-256 of the PIN that logged in
    bool owned = true;       // false when something else in the process logged in first
  };

  void* library = nullptr;
  CK_FUNCTION_LIST_PTR functions = nullptr;
  bool finalize = false;  // this process's C_Initialize, so C_Finalize after the last user
  int references = 0;
  std::map<CK_SLOT_ID, Login> logins;
};

namespace {

constexpr std::string_view kScheme = "pkcs11:";

// The modules and their logins are guarded by one mutex: they change only when an instance
// opens or closes. Leaked on purpose, so no instance outlives them at exit.
std::mutex& RegistryMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::map<void*, Pkcs11Module*>& Modules() {  // GUARDED_BY(RegistryMutex()), by dlopen handle
  static auto* modules = new std::map<void*, Pkcs11Module*>;
  return *modules;
}

std::string RvName(CK_RV rv) {
#define EHR_RV(name) \
  case name:         \
    return #name;
  switch (rv) {
    EHR_RV(CKR_OK)
    EHR_RV(CKR_HOST_MEMORY)
    EHR_RV(CKR_SLOT_ID_INVALID)
    EHR_RV(CKR_GENERAL_ERROR)
    EHR_RV(CKR_FUNCTION_FAILED)
    EHR_RV(CKR_ARGUMENTS_BAD)
    EHR_RV(CKR_CANT_LOCK)
    EHR_RV(CKR_ATTRIBUTE_SENSITIVE)
    EHR_RV(CKR_ATTRIBUTE_TYPE_INVALID)
    EHR_RV(CKR_ATTRIBUTE_VALUE_INVALID)
    EHR_RV(CKR_DATA_LEN_RANGE)
    EHR_RV(CKR_DEVICE_ERROR)
    EHR_RV(CKR_DEVICE_MEMORY)
    EHR_RV(CKR_DEVICE_REMOVED)
    EHR_RV(CKR_ENCRYPTED_DATA_INVALID)
    EHR_RV(CKR_ENCRYPTED_DATA_LEN_RANGE)
    EHR_RV(CKR_KEY_HANDLE_INVALID)
    EHR_RV(CKR_KEY_TYPE_INCONSISTENT)
    EHR_RV(CKR_KEY_FUNCTION_NOT_PERMITTED)
    EHR_RV(CKR_MECHANISM_INVALID)
    EHR_RV(CKR_MECHANISM_PARAM_INVALID)
    EHR_RV(CKR_OBJECT_HANDLE_INVALID)
    EHR_RV(CKR_OPERATION_ACTIVE)
    EHR_RV(CKR_OPERATION_NOT_INITIALIZED)
    EHR_RV(CKR_PIN_INCORRECT)
    EHR_RV(CKR_PIN_INVALID)
    EHR_RV(CKR_PIN_LEN_RANGE)
    EHR_RV(CKR_PIN_EXPIRED)
    EHR_RV(CKR_PIN_LOCKED)
    EHR_RV(CKR_SESSION_CLOSED)
    EHR_RV(CKR_SESSION_COUNT)
    EHR_RV(CKR_SESSION_HANDLE_INVALID)
    EHR_RV(CKR_SESSION_READ_ONLY)
    EHR_RV(CKR_TEMPLATE_INCOMPLETE)
    EHR_RV(CKR_TEMPLATE_INCONSISTENT)
    EHR_RV(CKR_TOKEN_NOT_PRESENT)
    EHR_RV(CKR_TOKEN_NOT_RECOGNIZED)
    EHR_RV(CKR_TOKEN_WRITE_PROTECTED)
    EHR_RV(CKR_USER_ALREADY_LOGGED_IN)
    EHR_RV(CKR_USER_NOT_LOGGED_IN)
    EHR_RV(CKR_USER_PIN_NOT_INITIALIZED)
    EHR_RV(CKR_USER_TYPE_INVALID)
    EHR_RV(CKR_BUFFER_TOO_SMALL)
    EHR_RV(CKR_CRYPTOKI_NOT_INITIALIZED)
    EHR_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    EHR_RV(CKR_FUNCTION_NOT_SUPPORTED)
    default:
      break;
  }
#undef EHR_RV
  char hex[32];
  std::snprintf(hex, sizeof hex, "CKR 0x%08lX", static_cast<unsigned long>(rv));
  return hex;
}

Status Failed(std::string_view call, CK_RV rv, const std::string& token) {
  return Status::Internal("PKCS#11 " + std::string(call) + " on the token '" + token + "' failed: " + RvName(rv));
}

// A non-null pointer to `s` (PKCS#11 modules refuse a null buffer even of length 0).
CK_BYTE_PTR Bytes(std::string_view s) {
  static CK_BYTE empty = 0;
  return s.data() ? reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(s.data())) : &empty;
}

std::string TrimPadded(const unsigned char* field, size_t size) {
  std::string s(reinterpret_cast<const char*>(field), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// Loads `path` or takes another reference to it. Caller holds RegistryMutex().
Result<Pkcs11Module*> AcquireModule(const std::string& path) {
  ::dlerror();
  void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = ::dlerror();
    return Status::Internal("cannot load the PKCS#11 module " + path + ": " + (why ? why : "unknown error"));
  }
  auto& modules = Modules();
  if (auto it = modules.find(library); it != modules.end()) {
    ::dlclose(library);  // the shared module holds one reference for all its users
    ++it->second->references;
    return it->second;
  }
  auto get_functions = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR functions = nullptr;
  if (get_functions == nullptr || get_functions(&functions) != CKR_OK || functions == nullptr) {
    ::dlclose(library);
    return Status::Internal("the library " + path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;  // several threads call the module; it locks with the OS's mutexes
  const CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(library);
    return Status::Internal("PKCS#11 C_Initialize of " + path + " failed: " + RvName(rv));
  }
  auto* module = new Pkcs11Module;
  module->library = library;
  module->functions = functions;
  module->finalize = rv == CKR_OK;  // else another part of the process initialized it and finalizes it
  module->references = 1;
  modules.emplace(library, module);
  return module;
}

// Caller holds RegistryMutex().
void ReleaseModule(Pkcs11Module* module) {
  if (--module->references > 0) return;
  Modules().erase(module->library);
  if (module->finalize) module->functions->C_Finalize(nullptr);
  ::dlclose(module->library);
  delete module;
}

Result<CK_SLOT_ID> FindSlot(CK_FUNCTION_LIST_PTR fn, const std::string& label) {
  CK_ULONG count = 0;
  CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return Failed("C_GetSlotList", rv, label);
  std::vector<CK_SLOT_ID> slots(count);
  rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return Failed("C_GetSlotList", rv, label);
  slots.resize(count);
  std::vector<CK_SLOT_ID> matches;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (fn->C_GetTokenInfo(slot, &info) != CKR_OK || (info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    if (TrimPadded(info.label, sizeof info.label) == label) matches.push_back(slot);
  }
  if (matches.empty()) return Status::NotFound("no initialized PKCS#11 token is labelled '" + label + "'");
  // Keys on the wrong one of two tokens would be a silent split of the key store.
  if (matches.size() > 1) return Status::Internal("more than one PKCS#11 token is labelled '" + label + "'");
  return matches.front();
}

}  // namespace

Result<std::string> ReadPin(const std::string& pin_file) {
  if (pin_file.empty()) {
    const char* pin = std::getenv("EHR_PKCS11_PIN");
    if (pin == nullptr || *pin == '\0') {
      return Status::Invalid("no PKCS#11 PIN: give a PIN file or set EHR_PKCS11_PIN");
    }
    return std::string(pin);
  }
  std::ifstream in(pin_file, std::ios::binary);
  if (!in) return Status::Invalid("cannot read the PKCS#11 PIN file " + pin_file);
  std::stringstream text;
  text << in.rdbuf();
  std::string pin = text.str();
  if (!pin.empty() && pin.back() == '\n') pin.pop_back();
  if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  if (pin.empty()) return Status::Invalid("the PKCS#11 PIN file " + pin_file + " is empty");
  return pin;
}

Pkcs11Keys::Pkcs11Keys(Pkcs11Module* module, Handle slot, std::string token_label, std::string prefix)
    : module_(module), slot_(slot), token_label_(std::move(token_label)), prefix_(std::move(prefix)) {}

Status Pkcs11Keys::FailedLocked(std::string_view call, CK_RV rv) {
  switch (rv) {
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_ERROR:
      session_lost_ = true;
      break;
    default:
      break;
  }
  return Failed(call, rv, token_label_);
}

Status Pkcs11Keys::ReopenLocked() {
  session_lost_ = false;
  CK_FUNCTION_LIST_PTR fn = module_->functions;
  if (session_ != CK_INVALID_HANDLE) (void)fn->C_CloseSession(session_);  // most likely gone already
  session_ = CK_INVALID_HANDLE;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = fn->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) return FailedLocked("C_OpenSession", rv);
  session_ = session;
  {
    // The login is the process's: another instance may have made it again already.
    std::lock_guard lock(RegistryMutex());
    rv = fn->C_Login(session_, CKU_USER, Bytes(pin_), pin_.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return FailedLocked("C_Login", rv);
    if (rv == CKR_OK) module_->logins[slot_].owned = true;
  }
  log::Warn("keys.pkcs11_session_reopened", {{"token", token_label_}});
  return ScanLocked();
}

template <typename Op>
auto Pkcs11Keys::RetriedLocked(Op&& op) -> decltype(op()) {
  if (session_lost_) EHR_RETURN_IF_ERROR(ReopenLocked());  // a reopen that failed before
  auto out = op();
  if (out.ok() || !session_lost_) return out;
  EHR_RETURN_IF_ERROR(ReopenLocked());
  return op();
}

Result<std::unique_ptr<Pkcs11Keys>> Pkcs11Keys::Open(const Pkcs11Options& options) {
  if (options.key_label_prefix.empty()) return Status::Invalid("the PKCS#11 key label prefix is empty");
  Pkcs11Module* module = nullptr;
  {
    std::lock_guard lock(RegistryMutex());
    EHR_ASSIGN_OR_RETURN(module, AcquireModule(options.module_path));
  }
  auto slot = FindSlot(module->functions, options.token_label);
  if (!slot.ok()) {
    std::lock_guard lock(RegistryMutex());
    ReleaseModule(module);
    return slot.take_status();
  }
  // From here the destructor closes what was opened.
  std::unique_ptr<Pkcs11Keys> keys(new Pkcs11Keys(module, *slot, options.token_label, options.key_label_prefix));
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  const CK_RV rv =
      module->functions->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) return Failed("C_OpenSession", rv, options.token_label);
  keys->session_ = session;
  EHR_RETURN_IF_ERROR(keys->Login(options.pin));
  keys->pin_ = options.pin;
  {
    std::lock_guard lock(keys->mu_);
    EHR_RETURN_IF_ERROR(keys->ScanLocked());
    if (keys->versions_.empty()) EHR_RETURN_IF_ERROR(keys->GenerateLocked(1));
  }
  return keys;
}

Status Pkcs11Keys::Login(const std::string& pin) {
  std::lock_guard lock(RegistryMutex());
  Pkcs11Module::Login& login = module_->logins[slot_];
  const std::string digest = Sha256(pin);
  if (login.references > 0) {
    // The token is logged in for the whole process already; C_Login would not check the PIN.
    if (!ConstantTimeEquals(digest, login.pin_digest)) {
      return Status::Internal("PKCS#11 C_Login on the token '" + token_label_ +
                              "' failed: CKR_PIN_INCORRECT (not the PIN this process logged in with)");
    }
  } else {
    const CK_RV rv = module_->functions->C_Login(session_, CKU_USER, Bytes(pin), pin.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
      module_->logins.erase(slot_);
      return Failed("C_Login", rv, token_label_);
    }
    login.pin_digest = digest;
    login.owned = rv == CKR_OK;
  }
  ++login.references;
  logged_in_ = true;
  return Status::Ok();
}

Pkcs11Keys::~Pkcs11Keys() {
  std::lock_guard lock(RegistryMutex());
  CK_FUNCTION_LIST_PTR fn = module_->functions;
  if (logged_in_) {
    Pkcs11Module::Login& login = module_->logins[slot_];
    if (--login.references == 0) {
      if (login.owned) fn->C_Logout(session_);
      module_->logins.erase(slot_);
    }
  }
  if (session_ != CK_INVALID_HANDLE) fn->C_CloseSession(session_);
  ReleaseModule(module_);
  std::fill(pin_.begin(), pin_.end(), '\0');
}

int Pkcs11Keys::VersionOf(std::string_view label) const {
  if (label.size() <= prefix_.size() || label.substr(0, prefix_.size()) != prefix_) return 0;
  const std::string_view digits = label.substr(prefix_.size());
  if (digits.size() > 9 || digits[0] == '0') return 0;
  int version = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    version = version * 10 + (c - '0');
  }
  return version;
}

Result<std::vector<Pkcs11Keys::Handle>> Pkcs11Keys::FindLocked(const std::string& label) {
  CK_OBJECT_CLASS secret_key = CKO_SECRET_KEY;
  CK_KEY_TYPE aes = CKK_AES;
  CK_BBOOL yes = CK_TRUE;
  std::vector<CK_ATTRIBUTE> query = {
      {CKA_CLASS, &secret_key, sizeof secret_key},
      {CKA_KEY_TYPE, &aes, sizeof aes},
      {CKA_TOKEN, &yes, sizeof yes},
  };
  if (!label.empty()) query.push_back({CKA_LABEL, Bytes(label), label.size()});
  CK_FUNCTION_LIST_PTR fn = module_->functions;
  CK_RV rv = fn->C_FindObjectsInit(session_, query.data(), query.size());
  if (rv != CKR_OK) return FailedLocked("C_FindObjectsInit", rv);
  std::vector<Handle> found;
  CK_OBJECT_HANDLE batch[32];
  CK_ULONG count = 0;
  while ((rv = fn->C_FindObjects(session_, batch, std::size(batch), &count)) == CKR_OK && count > 0) {
    found.insert(found.end(), batch, batch + count);
  }
  const CK_RV final_rv = fn->C_FindObjectsFinal(session_);
  if (rv != CKR_OK) return FailedLocked("C_FindObjects", rv);
  if (final_rv != CKR_OK) return FailedLocked("C_FindObjectsFinal", final_rv);
  return found;
}

Status Pkcs11Keys::ScanLocked() {
  EHR_ASSIGN_OR_RETURN(std::vector<Handle> keys, FindLocked(""));
  CK_FUNCTION_LIST_PTR fn = module_->functions;
  std::map<int, std::vector<Handle>> versions;
  for (Handle key : keys) {
    CK_ATTRIBUTE attribute{CKA_LABEL, nullptr, 0};
    CK_RV rv = fn->C_GetAttributeValue(session_, key, &attribute, 1);
    if (rv != CKR_OK) return FailedLocked("C_GetAttributeValue(CKA_LABEL)", rv);
    std::string label(attribute.ulValueLen, '\0');
    attribute.pValue = label.data();
    rv = fn->C_GetAttributeValue(session_, key, &attribute, 1);
    if (rv != CKR_OK) return FailedLocked("C_GetAttributeValue(CKA_LABEL)", rv);
    label.resize(attribute.ulValueLen);
    if (const int version = VersionOf(label); version > 0) versions[version].push_back(key);
  }
  // The current version is never retired: a token that lists none is failing, not emptied;
  // keep the known ones.
  if (!versions.empty()) versions_ = std::move(versions);
  return Status::Ok();
}

Status Pkcs11Keys::GenerateLocked(int version) {
  const std::string label = LabelOf(version);
  CK_OBJECT_CLASS secret_key = CKO_SECRET_KEY;
  CK_KEY_TYPE aes = CKK_AES;
  CK_ULONG length = kKeyBytes;
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE attributes[] = {
      {CKA_CLASS, &secret_key, sizeof secret_key},
      {CKA_KEY_TYPE, &aes, sizeof aes},
      {CKA_LABEL, Bytes(label), label.size()},
      {CKA_VALUE_LEN, &length, sizeof length},
      {CKA_TOKEN, &yes, sizeof yes},      // kept on the token, not in this session only
      {CKA_PRIVATE, &yes, sizeof yes},    // visible only after login
      {CKA_SENSITIVE, &yes, sizeof yes},  // CKA_VALUE never readable
      {CKA_EXTRACTABLE, &no, sizeof no},  // never wrapped out of the token either
      {CKA_ENCRYPT, &yes, sizeof yes},
      {CKA_DECRYPT, &yes, sizeof yes},
  };
  CK_MECHANISM generate{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  const CK_RV rv = module_->functions->C_GenerateKey(session_, &generate, attributes, std::size(attributes), &key);
  if (rv != CKR_OK) return FailedLocked("C_GenerateKey(" + label + ")", rv);
  versions_[version].push_back(key);
  return Status::Ok();
}

namespace {

CK_GCM_PARAMS GcmParams(std::string_view nonce, std::string_view aad) {
  CK_GCM_PARAMS gcm{};
  gcm.pIv = Bytes(nonce);
  gcm.ulIvLen = nonce.size();
  gcm.ulIvBits = nonce.size() * 8;
  gcm.pAAD = Bytes(aad);
  gcm.ulAADLen = aad.size();
  gcm.ulTagBits = kTagBytes * 8;
  return gcm;
}

}  // namespace

Result<std::string> Pkcs11Keys::EncryptLocked(Handle key, std::string_view plaintext, std::string_view aad) {
  const std::string nonce = RandomBytes(kNonceBytes);
  CK_GCM_PARAMS gcm = GcmParams(nonce, aad);
  CK_MECHANISM mechanism{CKM_AES_GCM, &gcm, sizeof gcm};
  CK_FUNCTION_LIST_PTR fn = module_->functions;
  CK_RV rv = fn->C_EncryptInit(session_, &mechanism, key);
  if (rv != CKR_OK) return FailedLocked("C_EncryptInit(CKM_AES_GCM)", rv);
  std::string sealed = nonce;
  sealed.resize(kNonceBytes + plaintext.size() + kTagBytes);
  CK_ULONG length = plaintext.size() + kTagBytes;
  rv = fn->C_Encrypt(session_, Bytes(plaintext), plaintext.size(), Bytes(sealed) + kNonceBytes, &length);
  if (rv != CKR_OK) return FailedLocked("C_Encrypt(CKM_AES_GCM)", rv);
  if (length != plaintext.size() + kTagBytes) {
    return Status::Internal("PKCS#11 C_Encrypt(CKM_AES_GCM) on the token '" + token_label_ +
                            "' returned a ciphertext of the wrong length");
  }
  return sealed;
}

Result<std::optional<std::string>> Pkcs11Keys::DecryptLocked(Handle key, std::string_view sealed,
                                                             std::string_view aad) {
  if (sealed.size() < kSealOverhead) return std::optional<std::string>();
  const std::string_view nonce = sealed.substr(0, kNonceBytes);
  const std::string_view body = sealed.substr(kNonceBytes);  // ciphertext || tag
  CK_GCM_PARAMS gcm = GcmParams(nonce, aad);
  CK_MECHANISM mechanism{CKM_AES_GCM, &gcm, sizeof gcm};
  CK_FUNCTION_LIST_PTR fn = module_->functions;
  CK_RV rv = fn->C_DecryptInit(session_, &mechanism, key);
  if (rv != CKR_OK) return FailedLocked("C_DecryptInit(CKM_AES_GCM)", rv);
  std::string plaintext(body.size(), '\0');
  CK_ULONG length = plaintext.size();
  rv = fn->C_Decrypt(session_, Bytes(body), body.size(), Bytes(plaintext), &length);
  if (rv == CKR_OK) {
    plaintext.resize(length);
    return std::optional<std::string>(std::move(plaintext));
  }
  // A tag mismatch: the v2.40 code is CKR_ENCRYPTED_DATA_INVALID; SoftHSM2 2.6 says
  // CKR_GENERAL_ERROR (its decryptFinal fails).
  if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE || rv == CKR_GENERAL_ERROR) {
    return std::optional<std::string>();
  }
  return FailedLocked("C_Decrypt(CKM_AES_GCM)", rv);
}

std::string Pkcs11Keys::CurrentId() const {
  std::lock_guard lock(mu_);
  return std::string(kScheme) + LabelOf(versions_.rbegin()->first);
}

Result<Wrapped> Pkcs11Keys::Wrap(std::string_view key, std::string_view aad) {
  std::lock_guard lock(mu_);
  return RetriedLocked([&]() -> Result<Wrapped> {
    // Another process may have rotated: wrap under the newest version (wraps are rare).
    EHR_RETURN_IF_ERROR(ScanLocked());
    const auto& [version, handles] = *versions_.rbegin();
    EHR_ASSIGN_OR_RETURN(std::string bytes, EncryptLocked(handles.front(), key, aad));
    return Wrapped{std::string(kScheme) + LabelOf(version), std::move(bytes)};
  });
}

Result<std::string> Pkcs11Keys::Unwrap(std::string_view kek_id, std::string_view wrapped, std::string_view aad) {
  const std::string label(kek_id.substr(0, kScheme.size()) == kScheme ? kek_id.substr(kScheme.size()) : "");
  const int version = VersionOf(label);
  const std::string unknown =
      "the key-encryption key " + std::string(kek_id) + " is not on the PKCS#11 token '" + token_label_ + "'";
  if (version == 0) return Status::NotFound(unknown);
  std::lock_guard lock(mu_);
  return RetriedLocked([&]() -> Result<std::string> { return UnwrapLocked(version, label, unknown, wrapped, aad); });
}

Result<std::string> Pkcs11Keys::UnwrapLocked(int version, const std::string& label, const std::string& unknown,
                                             std::string_view wrapped, std::string_view aad) {
  const std::string kek_id = std::string(kScheme) + label;
  std::vector<Handle> tried;
  if (auto it = versions_.find(version); it != versions_.end()) tried = it->second;
  for (Handle key : tried) {
    EHR_ASSIGN_OR_RETURN(std::optional<std::string> plaintext, DecryptLocked(key, wrapped, aad));
    if (plaintext) return std::move(*plaintext);
  }
  // Not seen here, or it did not authenticate: another process may have made this version
  // (or a second key of the same label, rotating at the same time) since this one looked.
  EHR_ASSIGN_OR_RETURN(std::vector<Handle> found, FindLocked(label));
  if (found.empty()) return Status::NotFound(unknown);
  versions_[version] = found;
  for (Handle key : found) {
    if (std::find(tried.begin(), tried.end(), key) != tried.end()) continue;
    EHR_ASSIGN_OR_RETURN(std::optional<std::string> plaintext, DecryptLocked(key, wrapped, aad));
    if (plaintext) return std::move(*plaintext);
  }
  return Status::Internal("encryption: the key wrapped by " + std::string(kek_id) + " does not authenticate");
}

Result<std::string> Pkcs11Keys::Rotate() {
  std::lock_guard lock(mu_);
  return RetriedLocked([&]() -> Result<std::string> {
    // Another process may have rotated since this one looked: continue from the newest.
    EHR_RETURN_IF_ERROR(ScanLocked());
    const int next = versions_.empty() ? 1 : versions_.rbegin()->first + 1;
    EHR_RETURN_IF_ERROR(GenerateLocked(next));
    return std::string(kScheme) + LabelOf(next);
  });
}

Result<std::vector<std::string>> Pkcs11Keys::Ids() {
  std::lock_guard lock(mu_);
  return RetriedLocked([&]() -> Result<std::vector<std::string>> {
    EHR_RETURN_IF_ERROR(ScanLocked());
    std::vector<std::string> ids;
    for (const auto& [version, handles] : versions_) ids.push_back(std::string(kScheme) + LabelOf(version));
    return ids;
  });
}

Status Pkcs11Keys::Retire(std::string_view kek_id) {
  const std::string label(kek_id.substr(0, kScheme.size()) == kScheme ? kek_id.substr(kScheme.size()) : "");
  const int version = VersionOf(label);
  std::lock_guard lock(mu_);
  return RetriedLocked([&]() -> Status {
    EHR_RETURN_IF_ERROR(ScanLocked());
    auto it = versions_.find(version);
    if (version == 0 || it == versions_.end()) {
      return Status::NotFound("the key-encryption key " + std::string(kek_id) + " is not on the PKCS#11 token '" +
                              token_label_ + "'");
    }
    if (version == versions_.rbegin()->first) {
      return Status::Invalid("the key-encryption key " + std::string(kek_id) + " is the current one");
    }
    for (Handle key : it->second) {
      const CK_RV rv = module_->functions->C_DestroyObject(session_, key);
      if (rv != CKR_OK) return FailedLocked("C_DestroyObject", rv);
    }
    versions_.erase(it);
    return Status::Ok();
  });
}

}  // namespace ehr::keys
