// ehr serve: the FHIR server. With --role, one node of a federation (or, `--role vault`
// without a federation file, a stand-alone FHIR server); without, a whole federation in one
// process (cli/all_in_one.h).
#include <signal.h>

#include <cstdio>
#include <string>

#include "cli/all_in_one.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/federation_setup.h"
#include "cli/serve_node.h"

namespace ehr::cli {

namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "ehr serve: %s\n", message.c_str());
  return 2;
}

}  // namespace

int Serve(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2, ServeFlags());
  if (!args.ok()) return Fail(args.status().message());
  const std::string listen = args->Get("listen", "127.0.0.1:8080");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Fail("--listen must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = ParseInt("listen", listen.substr(colon + 1), 0, 65535);
  if (!port.ok()) return Fail(port.status().message());
  if (args->Get("auth", "on") == "off" && !IsLoopback(host)) {
    return Fail("--auth off refuses to listen on a non-loopback address (" + host + ")");
  }
  auto settings = ParseServeSettings(*args);
  if (!settings.ok()) return Fail(settings.status().message());
  net::TlsOptions tls{args->Get("tls-cert"), args->Get("tls-key"), args->Get("tls-client-ca")};
  if (tls.cert_file.empty() != tls.key_file.empty()) return Fail("--tls-cert and --tls-key go together");
  if (!tls.client_ca_file.empty() && !tls.enabled()) return Fail("--tls-client-ca needs --tls-cert and --tls-key");

  // Signals are handled by one thread with sigwait, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // reload the TLS files
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (!args->Has("role") && args->Has("store")) {
    return Fail("--store is for one node (--role vault): the whole federation in one process keeps each node's "
                "data in its own directory");
  }
  if (!args->Has("role")) return ServeAllInOne(*args, *settings, host, static_cast<uint16_t>(*port), tls, signals);
  for (const char* flag : {"demo-patients", "visitor-writes"}) {
    if (args->Has(flag)) return Fail(std::string("--") + flag + " is for `ehr serve` without --role (else the federation file says)");
  }
  auto node = ServeNode::Open(*args, *settings, args->Get("data", "data"));
  if (!node.ok()) return Fail(node.status().message());
  auto fed = OpenFederation(*args, (*node)->store());
  if (!fed.ok()) return Fail(fed.status().message());
  if ((fed->role == "vault" || fed->role == "mpi") && fed->config.PinsCertificates()) {
    // The nodes calling here present their certificates, which their tokens are checked against.
    if (!tls.enabled()) return Fail("the federation file pins nodes' certificates: --role " + fed->role + " needs --tls-cert and --tls-key");
    tls.request_client_certificate = true;
  }
  if (Status st = (*node)->Listen(host, static_cast<uint16_t>(*port), tls); !st.ok()) return Fail(st.message());
  if (Status st = (*node)->Prepare(std::move(*fed), ""); !st.ok()) return Fail(st.message());
  std::fprintf(stderr, "ehr serve: %s\n", (*node)->Banner().c_str());
  std::fflush(stderr);
  return ServeUntilSignalled({node->get()}, signals);
}

}  // namespace ehr::cli
