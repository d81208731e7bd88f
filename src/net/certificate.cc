#include "net/certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

#include "core/secrets.h"

namespace ehr::net {

std::string CertificateDigest(const X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (certificate == nullptr || X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return "";
  return std::string(kCertificateDigestPrefix) + HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

Result<std::string> CertificateFileDigest(const std::string& pem_file) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(pem_file.c_str(), "rb"), &std::fclose);
  if (!file) return Status::Invalid("cannot read the certificate " + pem_file);
  std::unique_ptr<X509, decltype(&X509_free)> certificate(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!certificate) return Status::Invalid("no PEM certificate in " + pem_file);
  std::string digest = CertificateDigest(certificate.get());
  if (digest.empty()) return Status::Invalid("cannot encode the certificate in " + pem_file);
  return digest;
}

bool IsCertificateDigest(std::string_view text) {
  if (!text.starts_with(kCertificateDigestPrefix) || text.size() != kCertificateDigestPrefix.size() + 64) return false;
  for (char c : text.substr(kCertificateDigestPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace ehr::net
