#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace ehr::net {

namespace {

// TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only. ECDSA first: it is what a
// P-256 certificate signs with; the RSA ones serve an RSA certificate.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3 has only AEAD suites; listed so that a system-wide OpenSSL configuration cannot add
// the CCM ones.
constexpr char kTls13Suites[] = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr char kGroups[] = "X25519:P-256:P-384";

// The reason of OpenSSL's oldest queued error (the one that says what went wrong first), and
// empties the queue so that it does not leak into a later, unrelated call.
std::string OpenSslError() {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(first, text, sizeof text);
  return text;
}

Status Fail(const std::string& what, const std::string& file) {
  return Status::Invalid("TLS: " + what + " " + file + ": " + OpenSslError());
}

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& tls) {
  ERR_clear_error();
  auto context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return Status::Internal("TLS: cannot configure protocol versions and ciphers: " + OpenSslError());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);

  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return Fail("cannot load the certificate", tls.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Fail("cannot load the private key", tls.key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) return Fail("the key does not match the certificate", tls.cert_file);

  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      return Fail("cannot load the client authorities", tls.client_ca_file);
    }
    // Names sent in the CertificateRequest, so that a client holding several certificates
    // picks one these authorities signed.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) return Fail("no certificate in", tls.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else if (tls.request_client_certificate) {
    // Any certificate: the chain is not what is checked, the exact certificate is (its
    // digest, by the handlers). The handshake still proves the client holds its key.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  }
  if (!tls.client_ca_file.empty() || tls.request_client_certificate) {
    // Resumed sessions must be bound to this verification setting (OpenSSL refuses to
    // resume a client-authenticated session without one).
    static const unsigned char kSessionContext[] = "ehr-mtls";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  }
  return context;
}

}  // namespace ehr::net
