// ehr audit verify --data DIR [--public-key BASE64]: recomputes the audit log offline
// (audit/log.h, VerifyLog), archived segments' files in DIR/audit-archive included, and
// names the first entry that was altered, removed or reordered and every segment file
// missing, altered or signed by another key; exit 0 when the log is whole, 1 when it is
// not, 2 on bad usage.
// ehr audit erase --data DIR --patient ID [--tenant T]: GDPR erasure of a patient's
// personal part of the log, in the store and in archived segments (rewritten and signed
// again); the entries and the tree stay verifiable.
// ehr audit archive --data DIR [--retention-days N] [--now INSTANT] [--min-segment N]:
// moves entries older than the retention into signed segment files (audit/archive.h), as
// `ehr serve` does daily.
// ehr audit export --data DIR [--tenant T] [--patient ID] [--from INSTANT] [--to INSTANT]:
// the entries, archived ones included, as FHIR AuditEvents (NDJSON on stdout); the export
// is itself recorded first.
// ehr audit witness --data DIR --federation FILE --node NAME [--tls-cert F --tls-key K]:
// asks the federation's witness (the MPI) for the newest head of this node's log it holds
// and checks that the log extends it (federation/head_witness.h): a log rebuilt, rolled
// back or forked by someone holding the node's keys verifies alone but fails here; and
// says how many of the node's heads the witness refused. Exit 0 when the log extends the
// witnessed head and none was refused, 1 otherwise (or when the witness cannot be asked).
// Each works on the node's store: SQLite in DIR (default), or PostgreSQL with
// `--store postgres://... [--store-migrate CONNINFO]` (cli/store_choice.h); the key store
// and the archived segments (DIR/audit-archive) stay in DIR either way.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/archive.h"
#include "audit/log.h"
#include "audit/tree_head.h"
#include "cli/admin_audit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/federation_setup.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/secrets.h"
#include "federation/head_witness.h"
#include "fhir/json/value.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr audit verify --data DIR [--public-key BASE64] [--store ...]\n"
               "       ehr audit erase --data DIR --patient ID [--tenant T] [--store ...]\n"
               "       ehr audit archive --data DIR [--retention-days N] [--now INSTANT] [--min-segment N]\n"
               "                         [--store ...]\n"
               "       ehr audit export --data DIR [--tenant T] [--patient ID] [--from INSTANT] [--to INSTANT]\n"
               "                        [--store ...]   (AuditEvents as NDJSON on stdout)\n"
               "       ehr audit witness --data DIR --federation FILE --node NAME [--tls-cert F --tls-key K]\n"
               "                         [--store ...]   (the log against the head the federation's MPI witnessed)\n"
               "  --store sqlite|postgres://...  the node's store (default sqlite: DIR/ehr.db)\n"
               "  --store-migrate CONNINFO       PostgreSQL: the owner's connection, to migrate the schema\n%s%s",
               why.c_str(), why.empty() ? "" : "\n");
  return 2;
}

// The public key to check heads with: given, or that of the signing key (none when nothing
// was ever signed: verify then makes no key).
Result<std::string> PublicKey(const Args& args, store::Store& store, const std::string& data) {
  if (args.Has("public-key")) {
    auto key = Base64Decode(args.Get("public-key"));
    if (!key || key->size() != 32) return Status::Invalid("--public-key must be 32 bytes in base64");
    return *key;
  }
  EHR_ASSIGN_OR_RETURN(std::optional<store::AuditHead> head, store.LatestAuditHead());
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  if (!head && segments.empty()) return std::string();
  EHR_ASSIGN_OR_RETURN(audit::TreeSigner signer, AuditSigner(store, data));
  return signer.public_key();
}


int Archive(const Args& args, const std::string& data, const StoreChoice& choice) {
  auto days = ParseInt("retention-days", args.Get("retention-days", std::to_string(audit::kDefaultRetentionDays)), 0,
                       100 * 366);
  if (!days.ok()) return Usage(days.status().message());
  auto min_segment = ParseInt("min-segment", args.Get("min-segment", "1024"), 2, 1 << 20);
  if (!min_segment.ok()) return Usage(min_segment.status().message());
  Micros now = Clock::System().Now();
  if (args.Has("now")) {
    auto at = ParseInstant(args.Get("now"));
    if (!at) return Usage("--now must be an instant such as 2040-01-01T00:00:00Z");
    now = *at;
  }
  auto opened = OpenDataStore(args, data, choice, 2);
  if (!opened.ok()) {
    std::fprintf(stderr, "ehr audit archive: %s\n", opened.status().message().c_str());
    return 2;
  }
  store::Store& store = *opened->store;
  auto signer = AuditSigner(store, data);
  if (!signer.ok()) {
    std::fprintf(stderr, "ehr audit archive: the signing key: %s\n", signer.status().message().c_str());
    return 1;
  }
  audit::ArchiveOptions options;
  options.retention = static_cast<Micros>(*days) * 86'400'000'000LL;
  options.min_leaves = static_cast<uint64_t>(*min_segment);
  auto archive_keys = ArchiveKeysOf(store, true);
  if (!archive_keys.ok()) {
    std::fprintf(stderr, "ehr audit archive: the archive key: %s\n", archive_keys.status().message().c_str());
    return 1;
  }
  options.keys = std::move(*archive_keys);
  auto report = audit::ArchiveOldEntries(store, AuditArchiveDir(data), *signer, now, options);
  if (!report.ok()) {
    std::fprintf(stderr, "ehr audit archive: %s\n", report.status().message().c_str());
    return 1;
  }
  for (const store::AuditSegment& s : report->archived) {
    std::printf("archived entries %llu to %llu in %s\n", static_cast<unsigned long long>(s.first),
                static_cast<unsigned long long>(s.first + s.count - 1), s.file.c_str());
  }
  std::printf("%llu entries archived in %zu segments (recorded before %s)\n",
              static_cast<unsigned long long>(report->entries), report->archived.size(),
              FormatInstant(now - options.retention).c_str());
  return 0;
}

// `ehr audit export`: the entries as FHIR AuditEvents, one JSON object a line on stdout,
// archived and stored alike (audit/log.h, ExportLog), filtered; recorded in the log first.
int Export(const Args& args, const std::string& data, const StoreChoice& choice) {
  audit::ExportFilter filter;
  filter.tenant = args.Get("tenant");
  filter.patient = args.Get("patient");
  for (auto [flag, field] : {std::pair{"from", &filter.from}, std::pair{"to", &filter.to}}) {
    if (!args.Has(flag)) continue;
    const std::optional<Micros> t = ParseInstant(args.Get(flag));
    if (!t) return Usage(std::string("--") + flag + " must be an instant (2025-01-31T00:00:00Z)");
    *field = *t;
  }
  auto opened = OpenDataStore(args, data, choice, 2);
  if (!opened.ok()) {
    std::fprintf(stderr, "ehr audit export: %s\n", opened.status().message().c_str());
    return 2;
  }
  store::Store& store = *opened->store;
  auto signer = AuditSigner(store, data);
  auto archive_keys = ArchiveKeysOf(store, false);
  if (!signer.ok() || !archive_keys.ok()) {
    std::fprintf(stderr, "ehr audit export: the audit keys: %s\n",
                 (!signer.ok() ? signer.status() : archive_keys.status()).message().c_str());
    return 1;
  }
  // The disclosure is recorded before anything is shown.
  const std::string range = (args.Has("from") ? " from " + args.Get("from") : "") + (args.Has("to") ? " to " + args.Get("to") : "");
  if (Status st = RecordAdministration(store, {"audit-export", filter.tenant.empty() ? "default" : filter.tenant,
                                               filter.patient, {}, "export of the audit log" + range});
      !st.ok()) {
    std::fprintf(stderr, "ehr audit export: recording the export: %s\n", st.message().c_str());
    return 1;
  }
  auto exported = audit::ExportLog(store, signer->public_key(), AuditArchiveDir(data), *archive_keys, filter,
                                   [](const audit::Event& e, uint64_t index, bool erased) {
                                     const std::string line = json::Write(audit::ToAuditEvent(e, index, erased));
                                     std::fwrite(line.data(), 1, line.size(), stdout);
                                     std::fputc('\n', stdout);
                                   });
  if (!exported.ok()) {
    std::fprintf(stderr, "ehr audit export: %s\n", exported.status().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "ehr audit export: %llu entries\n", static_cast<unsigned long long>(*exported));
  return 0;
}

// `ehr audit witness`: this node's log against the head of it the federation's MPI holds.
int Witness(const Args& given, const std::string& data, const StoreChoice& choice) {
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "ehr audit witness: %s\n", why.c_str());
    return 1;
  };
  auto opened = OpenDataStore(given, data, choice, 2);
  if (!opened.ok()) return fail(opened.status().message());
  store::Store& store = *opened->store;
  // This node as its federation file names it (its role from there; no pepper needed).
  Result<federation::FederationConfig> config = [&]() -> Result<federation::FederationConfig> {
    std::ifstream in(given.Get("federation"), std::ios::binary);
    if (!in) return Status::Invalid("cannot read --federation " + given.Get("federation"));
    std::stringstream text;
    text << in.rdbuf();
    return federation::ParseFederationConfig(text.str());
  }();
  if (!config.ok()) return fail(config.status().message());
  const federation::Node* self = config->Find(given.Get("node"));
  if (self == nullptr) return fail("--node " + given.Get("node") + " is not in the federation file");
  if (config->Mpi() == nullptr) return fail("the federation file names no MPI");
  FederationChoice who;
  who.role = self->role;
  who.node = self->name;
  who.tls_cert = given.Get("tls-cert");
  who.tls_key = given.Get("tls-key");
  auto node = JoinFederation(*config, who, store);
  if (!node.ok()) return fail(node.status().message());
  federation::WitnessOptions wo;
  wo.node = self->name;
  wo.mpi_url = node->config.Mpi()->url;
  wo.mpi_node = node->config.Mpi()->name;
  wo.call = node->config.CallOptions(*node->config.Mpi(), 10000);
  auto view = federation::AskWitness(wo, *node->signer, Clock::System());
  if (!view.ok()) return fail("the witness (" + wo.mpi_url + "): " + view.status().message());
  auto signer = AuditSigner(store, data);
  if (!signer.ok()) return fail("the signing key: " + signer.status().message());
  auto size = store.AuditSize();
  if (!size.ok()) return fail(size.status().message());
  std::vector<std::string> problems;
  if (!view->head) {
    std::printf("the witness holds no head of %s yet\n", self->name.c_str());
  } else {
    const audit::TreeHead& h = view->head->head;
    std::printf("the witness holds a head of %s: %llu entries, signed %s\n", self->name.c_str(),
                static_cast<unsigned long long>(h.size),
                FormatInstant(static_cast<Micros>(h.timestamp_ms) * 1000).c_str());
    if (view->head->public_key != signer->public_key()) {
      problems.push_back("the witnessed head is signed by another key than this node's");
    } else if (!audit::VerifyTreeHead(h, view->head->public_key).ok()) {
      problems.push_back("the witnessed head's signature does not verify");
    }
    Status missing;
    const audit::NodeAt nodes = audit::StoredNodes(store, missing);
    Status extends = audit::LogExtends(h, *size, nodes);
    if (!missing.ok()) extends = missing;
    if (!extends.ok()) problems.push_back(extends.message());
  }
  for (const std::string& at : view->resets) {
    std::printf("the witness was reset by its operator at %s (a restore acknowledged: heads before it no longer "
                "count)\n",
                at.c_str());
  }
  if (view->refusals > 0) {
    problems.push_back("the witness refused " + std::to_string(view->refusals) + " heads of this node's log " +
                       "(rolled back, rewritten or forked: see the node's audit.witness_refused log lines)");
  }
  for (const std::string& p : problems) std::printf("PROBLEM: %s\n", p.c_str());
  if (!problems.empty()) return 1;
  std::printf("OK: this log of %llu entries extends the head the witness holds\n",
              static_cast<unsigned long long>(*size));
  return 0;
}

}  // namespace

int Audit(int argc, char** argv) {
  if (argc < 3) return Usage("");
  const std::string sub = argv[2];
  Result<Args> args = ParseArgs(argc, argv, 3,
                                WithStoreFlags(WithKeyStoreFlags({"data", "public-key", "patient", "tenant", "retention-days",
                                                                  "now", "min-segment", "from", "to", "federation", "node",
                                                                  "tls-cert", "tls-key"})));
  if (!args.ok()) return Usage(args.status().message());
  Result<StoreChoice> choice = ParseStoreChoice(*args);
  if (!choice.ok()) return Usage(choice.status().message());
  const std::string data = args->Get("data", "data");
  if (sub == "witness") {
    if (!args->Has("federation") || !args->Has("node")) return Usage("ehr audit witness needs --federation and --node");
    return Witness(*args, data, *choice);
  }
  if (sub == "verify") {
    auto opened = OpenDataStore(*args, data, *choice, 2);
    if (!opened.ok()) {
      std::fprintf(stderr, "ehr audit verify: %s\n", opened.status().message().c_str());
      return 2;
    }
    store::Store& store = *opened->store;
    auto key = PublicKey(*args, store, data);
    if (!key.ok()) return Usage(key.status().message());
    // Archived segments are sealed with the key store's archive keys (none before any was).
    auto archive_keys = ArchiveKeysOf(store, false);
    if (!archive_keys.ok()) {
      std::fprintf(stderr, "ehr audit verify: the archive key: %s\n", archive_keys.status().message().c_str());
      return 2;
    }
    auto report = audit::VerifyLog(store, *key, AuditArchiveDir(data), *archive_keys);
    if (!report.ok()) {
      std::fprintf(stderr, "ehr audit verify: %s\n", report.status().message().c_str());
      return 2;
    }
    std::printf("%llu entries, %llu signed tree heads%s, %llu erased on request\n",
                static_cast<unsigned long long>(report->entries), static_cast<unsigned long long>(report->heads),
                key->empty() ? " (no public key: signatures not checked)" : "",
                static_cast<unsigned long long>(report->erased));
    for (const std::string& line : report->segments) std::printf("%s\n", line.c_str());
    if (report->ok()) {
      std::printf("OK: every entry, subtree and signed head recomputes\n");
      return 0;
    }
    for (const std::string& p : report->problems) std::printf("TAMPERED: %s\n", p.c_str());
    return 1;
  }
  if (sub == "erase") {
    if (!args->Has("patient")) return Usage("--patient is required");
    auto opened = OpenDataStore(*args, data, *choice, 2);
    if (!opened.ok()) {
      std::fprintf(stderr, "ehr audit erase: %s\n", opened.status().message().c_str());
      return 2;
    }
    store::Store& store = *opened->store;
    const std::string tenant = args->Get("tenant", "default");
    auto erased = store.EraseAuditDetail(tenant, args->Get("patient"));
    if (!erased.ok()) {
      std::fprintf(stderr, "ehr audit erase: %s\n", erased.status().message().c_str());
      return 1;
    }
    std::printf("erased the personal part of %lld entries\n", static_cast<long long>(*erased));
    // The erasure itself is recorded, by counts only: an entry naming the patient would undo it.
    auto recorded = [&](int64_t archived) {
      Status st = RecordAdministration(store, {"audit-erase", tenant, "", {},
                                               "erased the personal part of " + std::to_string(*erased) +
                                                   " entries and " + std::to_string(archived) + " archived entries"});
      if (!st.ok()) std::fprintf(stderr, "ehr audit erase: recording the erasure: %s\n", st.message().c_str());
      return st.ok() ? 0 : 1;
    };
    auto segments = store.AuditSegments();
    if (!segments.ok()) {
      std::fprintf(stderr, "ehr audit erase: %s\n", segments.status().message().c_str());
      return 1;
    }
    if (segments->empty()) return recorded(0);
    auto signer = AuditSigner(store, data);
    if (!signer.ok()) {
      std::fprintf(stderr, "ehr audit erase: the signing key: %s\n", signer.status().message().c_str());
      return 1;
    }
    auto archive_keys = ArchiveKeysOf(store, true);
    if (!archive_keys.ok()) {
      std::fprintf(stderr, "ehr audit erase: the archive key: %s\n", archive_keys.status().message().c_str());
      return 1;
    }
    auto archived =
        audit::EraseArchivedDetail(store, AuditArchiveDir(data), *signer, tenant, args->Get("patient"), *archive_keys);
    if (!archived.ok()) {
      std::fprintf(stderr, "ehr audit erase: archived segments: %s\n", archived.status().message().c_str());
      return 1;
    }
    std::printf("erased the personal part of %lld archived entries\n", static_cast<long long>(*archived));
    return recorded(*archived);
  }
  if (sub == "archive") return Archive(*args, data, *choice);
  if (sub == "export") return Export(*args, data, *choice);
  return Usage("unknown audit command '" + sub + "'");
}

}  // namespace ehr::cli
