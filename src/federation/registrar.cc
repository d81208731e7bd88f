#include "federation/registrar.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <tuple>

#include "core/files.h"
#include "core/log.h"
#include "mpi/national_id.h"
#include "fhir/json/value.h"
#include "net/fetch.h"

namespace ehr::federation {
namespace {

// The mark file: "SEQ PEPPERS", the last seq registered and the peppers it was registered
// under (Pseudonymizer::Fingerprint). Other peppers than now (a rotation begun or ended):
// everything is registered again, from the start of the log.
int64_t ReadMark(const std::filesystem::path& file, const std::string& fingerprint) {
  std::ifstream in(file);
  int64_t mark = 0;
  std::string peppers;
  if (in >> mark >> peppers && mark > 0 && peppers == fingerprint) return mark;
  return 0;
}

}  // namespace

MpiRegistrar::MpiRegistrar(store::Store& store, const mpi::Pseudonymizer& pseudonyms,
                           const security::NodeSigner& signer, Clock& clock, RegistrarOptions options)
    : store_(store), pseudonyms_(pseudonyms), signer_(signer), clock_(clock), options_(std::move(options)) {
  mark_ = ReadMark(options_.mark_file, pseudonyms_.Fingerprint());
}

MpiRegistrar::~MpiRegistrar() { Stop(); }

Status MpiRegistrar::SaveMark(int64_t mark) {
  const std::filesystem::path temp = options_.mark_file.string() + ".tmp";
  const std::string text = std::to_string(mark) + " " + pseudonyms_.Fingerprint() + "\n";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("federation: cannot write " + temp.string());
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), options_.mark_file.c_str()) != 0) {
    return Status::Unavailable("federation: cannot write " + options_.mark_file.string());
  }
  (void)SyncDirectory(options_.mark_file.parent_path());  // a lost mark only sends again
  mark_ = mark;
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> MpiRegistrar::Headers() const {
  security::NodeClaims claims;
  claims.audience = options_.mpi_node;
  return {{"Authorization", signer_.Authorization(claims, clock_.Now())},
          {"Content-Type", "application/json"}};
}

std::vector<mpi::PatientPseudonym> MpiRegistrar::LinksOf(const std::string& body, int& invalid) const {
  auto parsed = json::Parse(body);
  return parsed.ok() ? pseudonyms_.Linkable(*parsed, &invalid) : std::vector<mpi::PatientPseudonym>{};
}

Status MpiRegistrar::Send(const std::string& patient, const std::vector<mpi::PatientPseudonym>& links) {
  const std::vector<std::pair<std::string, std::string>> headers = Headers();
  const std::string url = options_.mpi_url + "/mpi/regions/" + options_.region + "/patients/" + patient;
  const net::FetchOptions& fetch = options_.call;
  Result<net::HttpReply> reply = [&] {
    if (links.empty()) return net::HttpCall("DELETE", url, headers, {}, fetch);
    json::Value array = json::Value::MakeArray();
    for (const mpi::PatientPseudonym& p : links) {
      json::Value link = json::Value::MakeObject();
      link.Set("type", json::Value(p.type));
      link.Set("pseudonym", json::Value(p.pseudonym));
      array.as_array().push_back(std::move(link));
    }
    json::Value body = json::Value::MakeObject();
    body.Set("links", std::move(array));
    return net::HttpCall("PUT", url, headers, json::Write(body), fetch);
  }();
  if (!reply.ok()) return reply.status();
  if (reply->status != 200 && reply->status != 204) {
    return Status::Unavailable("federation: the MPI answered HTTP " + std::to_string(reply->status));
  }
  return Status::Ok();
}

Result<RegistrarPass> MpiRegistrar::RunOnce() {
  RegistrarPass pass;
  int64_t mark = mark_.load();
  while (true) {
    EHR_ASSIGN_OR_RETURN(std::vector<store::VersionRecord> versions,
                         store_.VersionsAfter(options_.tenant, "Patient", mark, options_.batch));
    if (versions.empty()) break;
    // The newest version of each patient in the step decides its links.
    std::map<std::string, const store::VersionRecord*> latest;
    for (const store::VersionRecord& v : versions) latest[v.id] = &v;
    for (const auto& [id, v] : latest) {
      std::vector<mpi::PatientPseudonym> links;
      if (!v->deleted) links = LinksOf(v->body, pass.invalid);
      if (links.empty() && !v->deleted && v->version == 1) continue;  // new, with nothing to link: never registered
      EHR_RETURN_IF_ERROR(Send(id, links));
      ++pass.registered;
    }
    mark = versions.back().seq;
    EHR_RETURN_IF_ERROR(SaveMark(mark));
  }
  pass.mark = mark;
  return pass;
}

Result<Reconciliation> MpiRegistrar::Reconcile(bool repair) {
  Reconciliation r;
  using Links = std::vector<mpi::PatientPseudonym>;
  std::map<std::string, Links> expected;
  int invalid = 0;
  EHR_RETURN_IF_ERROR(store_.ForEachCurrent([&](const std::string& tenant, store::VersionRecord&& rec) -> Status {
    if (tenant != options_.tenant || rec.type != "Patient") return Status::Ok();
    Links links = LinksOf(rec.body, invalid);
    if (!links.empty()) expected[rec.id] = std::move(links);
    return Status::Ok();
  }));
  r.patients = static_cast<int>(expected.size());
  net::FetchOptions fetch = options_.call;
  fetch.max_bytes = 1u << 30;
  EHR_ASSIGN_OR_RETURN(net::HttpReply reply, net::HttpCall("GET", options_.mpi_url + "/mpi/regions/" + options_.region +
                                                                       "/patients",
                                                                   Headers(), {}, fetch));
  if (reply.status != 200) return Status::Unavailable("federation: the MPI answered HTTP " + std::to_string(reply.status));
  auto listed = json::Parse(reply.body);
  const json::Value* rows = listed.ok() ? listed->Find("links") : nullptr;
  if (rows == nullptr || !rows->is_array()) return Status::Unavailable("federation: the MPI's list is not readable");
  std::map<std::string, Links> actual;
  for (const json::Value& row : rows->as_array()) {
    actual[std::string(row.GetString("patient"))].push_back(
        {std::string(row.GetString("type")), std::string(row.GetString("pseudonym"))});
  }
  for (auto& [patient, links] : actual) {
    std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
      return std::tie(a.type, a.pseudonym) < std::tie(b.type, b.pseudonym);
    });
  }
  std::vector<std::pair<std::string, const Links*>> mend;
  static const Links kNone;
  for (const auto& [patient, links] : expected) {
    auto it = actual.find(patient);
    if (it == actual.end() || it->second != links) {
      ++r.missing;
      mend.push_back({patient, &links});
    }
  }
  for (const auto& [patient, links] : actual) {
    if (!expected.count(patient)) {
      ++r.extra;
      mend.push_back({patient, &kNone});
    }
  }
  if (repair) {
    for (const auto& [patient, links] : mend) {
      EHR_RETURN_IF_ERROR(Send(patient, *links));
      ++r.repaired;
    }
  }
  return r;
}

void MpiRegistrar::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    Micros backoff = 1'000'000;
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      Result<RegistrarPass> pass = RunOnce();
      lock.lock();
      Micros wait = options_.poll;
      if (pass.ok()) {
        backoff = 1'000'000;
        if (pass->registered > 0) {
          log::Info("federation.mpi_registered",
                    {{"patients", pass->registered}, {"invalid_ids", pass->invalid}, {"mark", pass->mark}});
        }
      } else {
        log::Warn("federation.mpi_register_failed", {{"error", pass.status().message()}, {"retry_ms", backoff / 1000}});
        wait = backoff;
        backoff = std::min<Micros>(backoff * 2, 60'000'000);
      }
      wake_.wait_for(lock, std::chrono::microseconds(wait), [&] { return stop_ || nudged_; });
      nudged_ = false;
    }
  });
}

void MpiRegistrar::Nudge() {
  std::lock_guard lock(mu_);
  nudged_ = true;
  wake_.notify_all();
}

void MpiRegistrar::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace ehr::federation
