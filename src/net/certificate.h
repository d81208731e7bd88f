// How this server names a TLS certificate: "sha256:" and the lower-case hex SHA-256 of its
// DER encoding (what `openssl x509 -outform DER | sha256sum` prints). Request::
// client_certificate carries it, and a federation file pins its nodes' certificates by it.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

typedef struct x509_st X509;

namespace ehr::net {

inline constexpr std::string_view kCertificateDigestPrefix = "sha256:";

// "" when the certificate cannot be encoded.
std::string CertificateDigest(const X509* certificate);

// The digest of the first certificate of a PEM file (a server's own certificate comes
// before its intermediates); kInvalid when the file cannot be read or holds none.
Result<std::string> CertificateFileDigest(const std::string& pem_file);

// Whether `text` is a digest as CertificateDigest writes it.
bool IsCertificateDigest(std::string_view text);

}  // namespace ehr::net
