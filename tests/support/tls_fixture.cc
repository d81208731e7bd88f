#include "support/tls_fixture.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <stdexcept>

namespace ehr::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

KeyPtr NewKey(KeyType type) {
  KeyPtr key(type == KeyType::kEcP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048));
  Check(key != nullptr, "key generation");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `common_name`, signed by `issuer_key` (issuer null: by itself).
CertPtr MakeCertificate(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
                        const std::vector<std::pair<int, std::string>>& extensions) {
  static std::atomic<long> serial{1};
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  for (const auto& [nid, value] : extensions) AddExtension(cert.get(), signer, nid, value);
  Check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "signature");
  return cert;
}

void WritePem(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr && PEM_write_X509(f, cert) == 1, "writing a certificate");
  std::fclose(f);
}

void WritePem(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "writing a key");
  std::fclose(f);
}

}  // namespace

struct TestAuthority::Impl {
  std::string dir;
  KeyPtr key;
  CertPtr cert;

  CertFiles Issue(const std::string& name, KeyType type, const std::vector<std::pair<int, std::string>>& extensions) const {
    KeyPtr leaf_key = NewKey(type);
    CertPtr leaf = MakeCertificate(leaf_key.get(), name, cert.get(), key.get(), extensions);
    CertFiles files{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
    WritePem(files.cert, leaf.get());
    WritePem(files.key, leaf_key.get());
    return files;
  }
};

TestAuthority::TestAuthority(std::string dir, std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(dir);
  impl_->key = NewKey(KeyType::kEcP256);
  impl_->cert = MakeCertificate(impl_->key.get(), name, nullptr, nullptr,
                                {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign"}});
  cert_file_ = impl_->dir + "/" + name + "-ca.pem";
  WritePem(cert_file_, impl_->cert.get());
}

TestAuthority::~TestAuthority() = default;

CertFiles TestAuthority::IssueServer(const std::string& name, KeyType key) const {
  return impl_->Issue(name, key,
                      {{NID_basic_constraints, "critical,CA:FALSE"},
                       {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                       {NID_ext_key_usage, "serverAuth"}});
}

CertFiles TestAuthority::IssueClient(const std::string& name) const {
  return impl_->Issue(name, KeyType::kEcP256,
                      {{NID_basic_constraints, "critical,CA:FALSE"}, {NID_ext_key_usage, "clientAuth"}});
}

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ehr-tls-XXXXXX").string();
  Check(mkdtemp(pattern.data()) != nullptr, "temporary directory");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

struct HttpsClient::Impl {
  uint16_t port = 0;
  asio::io_context ioc;
  asio::ssl::context context{asio::ssl::context::tls_client};
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream;
  beast::flat_buffer buffer;
};

HttpsClient::HttpsClient(uint16_t port, TlsClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  SSL_CTX* ctx = impl_->context.native_handle();
  if (!options.tls12_ciphers.empty()) Check(SSL_CTX_set_cipher_list(ctx, options.tls12_ciphers.c_str()) == 1, "ciphers");
  if (options.legacy) SSL_CTX_set_security_level(ctx, 0);
  if (options.min_version != 0) Check(SSL_CTX_set_min_proto_version(ctx, options.min_version) == 1, "min version");
  if (options.max_version != 0) Check(SSL_CTX_set_max_proto_version(ctx, options.max_version) == 1, "max version");
  if (!options.ca_file.empty()) {
    impl_->context.load_verify_file(options.ca_file);
    impl_->context.set_verify_mode(asio::ssl::verify_peer);
  }
  if (!options.client.cert.empty()) {
    impl_->context.use_certificate_file(options.client.cert, asio::ssl::context::pem);
    impl_->context.use_private_key_file(options.client.key, asio::ssl::context::pem);
  }
}

HttpsClient::~HttpsClient() = default;

bool HttpsClient::Connect() {
  impl_->stream = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(impl_->ioc, impl_->context);
  impl_->buffer.clear();
  boost::system::error_code ec;
  impl_->stream->next_layer().connect({asio::ip::make_address("127.0.0.1"), impl_->port}, ec);
  if (!ec) impl_->stream->handshake(asio::ssl::stream_base::client, ec);
  error_ = ec ? ec.message() : "";
  return !ec;
}

std::string HttpsClient::version() const { return SSL_get_version(impl_->stream->native_handle()); }

std::string HttpsClient::cipher() const { return SSL_get_cipher_name(impl_->stream->native_handle()); }

std::string HttpsClient::server_name() const {
  X509* cert = SSL_get0_peer_certificate(impl_->stream->native_handle());
  if (cert == nullptr) return "";
  char name[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name) < 0) return "";
  return name;
}

HttpResult HttpsClient::Send(const std::string& method, const std::string& target, const std::string& body,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!impl_->stream) throw std::runtime_error("not connected");
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(*impl_->stream, req);
  http::response_parser<http::string_body> parser;
  parser.skip(method == "HEAD");
  http::read(*impl_->stream, impl_->buffer, parser);
  HttpResult out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(parser.get().body());
  return out;
}

bool HttpsClient::ClosedWithNotify() {
  char byte;
  boost::system::error_code ec;
  impl_->stream->read_some(asio::buffer(&byte, 1), ec);
  error_ = ec ? ec.message() : "";
  return ec == asio::error::eof;  // asio's name for a received close_notify; TCP alone is stream_truncated
}

bool HttpsClient::Renegotiate() {
  if (SSL_renegotiate(impl_->stream->native_handle()) != 1) {
    error_ = "renegotiation not possible on this connection";
    return false;
  }
  boost::system::error_code ec;
  impl_->stream->handshake(asio::ssl::stream_base::client, ec);
  error_ = ec ? ec.message() : "";
  return !ec;
}

std::pair<int, std::string> HttpsClient::TryGet(const std::string& target) {
  if (!Connect()) return {0, error_};
  try {
    return {Get(target).status, ""};
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

}  // namespace ehr::testing
