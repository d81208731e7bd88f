// The server's TLS configuration as an OpenSSL context (used by server.cc only: it carries
// Boost types, which net/server.h keeps out of its users' builds).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "core/status.h"
#include "net/server.h"

namespace ehr::net {

// TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305
// (forward secrecy and AEAD: no CBC, no RSA key exchange), chosen by the server's order;
// no compression, no renegotiation. With `client_ca_file`, a client must present a
// certificate that chains to one of its authorities; else with `request_client_certificate`
// it may present any (see TlsOptions). Invalid when a file cannot be read,
// the key does not match the certificate, or a file holds no usable authority.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& tls);

}  // namespace ehr::net
