// For tests: a fresh SoftHSM2 token in a temporary directory, so a test exercises a real
// PKCS#11 module (no mock) without touching the machine's own tokens.
//
// SoftHSM2 reads SOFTHSM2_CONF when the module is initialized (the first Pkcs11Keys::Open of
// the process, or the first after every instance has closed), so start the token before
// opening it, and do not start another while an instance of the module is open.
#pragma once

#include <string>

#include "core/status.h"

namespace ehr::keys::testing {

class SoftHsmToken {
 public:
  // Makes a temporary directory with a softhsm2.conf and a token store, points
  // SOFTHSM2_CONF at it (setenv, for the whole process) and initializes one token with
  // `softhsm2-util --init-token --free`.
  static Result<SoftHsmToken> Start(const std::string& label = "ehr-test");

  // Removes the directory with the token in it.
  ~SoftHsmToken();
  SoftHsmToken(SoftHsmToken&& other) noexcept;
  SoftHsmToken& operator=(SoftHsmToken&&) = delete;
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  const std::string& conf_path() const { return conf_path_; }
  const std::string& module_path() const { return module_path_; }
  const std::string& label() const { return label_; }
  const std::string& pin() const { return pin_; }  // the user PIN
  const std::string& so_pin() const { return so_pin_; }

 private:
  SoftHsmToken() = default;

  std::string dir_;
  std::string conf_path_;
  std::string module_path_;
  std::string label_;
  std::string pin_;
  std::string so_pin_;
};

}  // namespace ehr::keys::testing
