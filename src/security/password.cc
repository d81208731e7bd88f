#include "security/password.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace ehr::security {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// Base words of the most common leaked passwords (the top of the public "10 million
// passwords" and "rockyou" frequency lists), after Normalise: lower case, leetspeak undone,
// leading and trailing digits and symbols removed. A password whose core is one of these,
// or one repeated, is refused.
constexpr std::array<std::string_view, 96> kCommonWords = {
    "password", "passwort", "motdepasse", "qwerty", "qwertyuiop", "azerty", "qwertz", "asdf", "asdfgh",
    "asdfghjkl", "zxcvbn", "zxcvbnm", "letmein", "welcome", "admin", "administrator", "root", "login",
    "iloveyou", "monkey", "dragon", "master", "sunshine", "princess", "football", "baseball", "soccer",
    "shadow", "superman", "batman", "trustno", "hello", "freedom", "whatever", "charlie", "michael",
    "jennifer", "jordan", "hunter", "ranger", "buster", "thomas", "robert", "daniel", "andrew", "jessica",
    "pepper", "ginger", "cookie", "summer", "winter", "spring", "autumn", "secret", "changeme", "default",
    "guest", "test", "tester", "testing", "abc", "abcdef", "abcdefg", "abcdefgh", "computer", "internet",
    "starwars", "pokemon", "matrix", "killer", "access", "flower", "lovely", "passw", "pass", "hospital",
    "doctor", "nurse", "health", "patient", "clinic", "medical", "london", "berlin", "paris", "england",
    "germany", "france", "january", "december", "october", "november", "september", "monday"};

char Unleet(char c) {
  switch (c) {
    case '@': case '4': return 'a';
    case '3': return 'e';
    case '1': case '!': case '|': return 'i';
    case '0': return 'o';
    case '$': case '5': return 's';
    case '7': case '+': return 't';
    default: return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
}

// The letters of a password with decorations removed: digits and symbols around the core,
// substitutions undone inside it. With `unleet_edges`, substitutions at the edges count as
// letters ("@dmin1!" is "admin"); without, they are decorations ("1Password!" is "password").
std::string Core(std::string_view password, bool unleet_edges) {
  auto letter = [unleet_edges](char c) {
    return std::isalpha(static_cast<unsigned char>(unleet_edges ? Unleet(c) : c)) != 0;
  };
  size_t begin = 0;
  size_t end = password.size();
  while (begin < end && !letter(password[begin])) ++begin;
  while (end > begin && !letter(password[end - 1])) --end;
  std::string core;
  for (size_t i = begin; i < end; ++i) core.push_back(Unleet(password[i]));
  return core;
}

bool IsRepetitionOf(std::string_view text, std::string_view word) {
  if (word.empty() || text.size() % word.size() != 0) return false;
  for (size_t i = 0; i < text.size(); i += word.size()) {
    if (text.substr(i, word.size()) != word) return false;
  }
  return true;
}

}  // namespace

class PasswordHasher::Slot {
 public:
  explicit Slot(PasswordHasher& h) : h_(h) {
    std::unique_lock lock(h_.mu_);
    h_.cv_.wait(lock, [this] { return h_.free_ > 0; });
    --h_.free_;
  }
  ~Slot() {
    {
      std::lock_guard lock(h_.mu_);
      ++h_.free_;
    }
    h_.cv_.notify_one();
  }

 private:
  PasswordHasher& h_;
};

Result<std::string> PasswordHasher::Hash(std::string_view password) {
  if (!SodiumReady()) return Status::Internal("libsodium failed to initialise");
  Slot slot(*this);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost_.ops, cost_.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("out of memory while hashing a password");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(std::string_view encoded, std::string_view password) {
  if (!SodiumReady() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  std::string hash(encoded);  // libsodium wants a NUL-terminated string
  Slot slot(*this);
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(std::string_view encoded) const {
  if (encoded.size() >= crypto_pwhash_STRBYTES) return true;
  std::string hash(encoded);
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost_.ops, cost_.mem_bytes) != 0;
}

Status CheckPasswordPolicy(std::string_view password, std::string_view username) {
  if (password.size() < 12) return Status::Invalid("the password must have at least 12 characters", "password");
  if (password.size() > 128) return Status::Invalid("the password must have at most 128 characters", "password");
  bool upper = false, lower = false, digit = false, symbol = false;
  for (unsigned char c : password) {
    if (std::isupper(c)) upper = true;
    else if (std::islower(c)) lower = true;
    else if (std::isdigit(c)) digit = true;
    else symbol = true;
  }
  if (!upper || !lower || !digit || !symbol) {
    return Status::Invalid("the password must contain an upper-case letter, a lower-case letter, a digit and a symbol",
                           "password");
  }
  const std::string user = Core(username, false);
  for (bool unleet_edges : {false, true}) {
    const std::string core = Core(password, unleet_edges);
    if (user.size() >= 3 && core.find(user) != std::string::npos) {
      return Status::Invalid("the password must not contain the username", "password");
    }
    for (std::string_view word : kCommonWords) {
      if (IsRepetitionOf(core, word)) {
        return Status::Invalid("the password is too common (a well-known password with decorations)", "password");
      }
    }
  }
  return Status::Ok();
}

}  // namespace ehr::security
