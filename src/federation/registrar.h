// Keeps the Master Patient Index in step with this vault's Patients (issue 9): follows the
// Patient versions of the store's write log (store::Store::VersionsAfter) and, for each
// patient written since the last acknowledged one, sets its links at the MPI to the
// pseudonyms of its current national identifiers (mpi/pseudonym.h), or removes them when it
// was deleted or holds none. The write log is the outbox: a version is registered only once
// committed (the MPI is never ahead of the vault), every write path is covered (REST,
// transactions, `ehr import`), and the mark (the last seq the MPI acknowledged) advances
// only after every call of a pass succeeded, in a file beside the data written atomically;
// a failed pass is retried with back-off (1 s doubling to 60 s). Registering is idempotent,
// so a lost mark only makes the next pass send again. Identifiers that are not valid
// national ids are not registered (counted in the log line, never shown). Each identifier is
// registered under every pepper the vault holds (two while the pepper is rotated); the mark
// file names them, so that when they change everything is registered again: that pass is
// the re-pseudonymisation of a rotation, and the pass after it ends removes the old
// pseudonyms. Reconcile()
// (`ehr federation reconcile`) compares the whole region with the MPI and mends it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "mpi/pseudonym.h"
#include "net/fetch.h"
#include "security/node_token.h"
#include "store/store.h"

namespace ehr::federation {

struct RegistrarOptions {
  std::string tenant = "default";
  std::string region;    // this vault's
  std::string mpi_url;   // base URL of the MPI
  std::string mpi_node;  // its node name (the tokens' audience)
  std::filesystem::path mark_file;
  Micros poll = 1'000'000;  // between passes when nothing happened
  int batch = 500;          // versions read per step
  // How to call the MPI (FederationConfig::CallOptions: its pinned certificates, this
  // node's own, the time per call).
  net::FetchOptions call = [] {
    net::FetchOptions o;
    o.timeout_ms = 5000;
    return o;
  }();
};

struct RegistrarPass {
  int registered = 0;  // patients whose links were set or removed
  int invalid = 0;     // national identifiers skipped (not valid)
  int64_t mark = 0;    // the last seq acknowledged after the pass
};

// What `ehr federation reconcile` found (and mended) between this vault and the MPI.
struct Reconciliation {
  int patients = 0;  // current Patients of the vault holding a valid national id
  int missing = 0;   // patients whose links the MPI lacks or holds otherwise
  int extra = 0;     // patients the MPI links to this region that the vault does not hold so
  int repaired = 0;  // of both, set right at the MPI (with repair)
};

class MpiRegistrar {
 public:
  MpiRegistrar(store::Store& store, const mpi::Pseudonymizer& pseudonyms, const security::NodeSigner& signer,
               Clock& clock, RegistrarOptions options);
  ~MpiRegistrar();  // stops the thread

  // One pass over everything written since the mark (kUnavailable when the MPI could not
  // be reached or refused a call: the mark stays).
  Result<RegistrarPass> RunOnce();
  // Compares every current Patient's links with what the MPI holds for this region, and
  // with `repair` sets each patient that differs right (kUnavailable: the MPI could not
  // be asked, or refused a repair).
  Result<Reconciliation> Reconcile(bool repair);
  void Start();
  void Stop();
  // Wakes the thread for a pass now (e.g. after a Patient write).
  void Nudge();
  int64_t mark() const { return mark_.load(); }

 private:
  Status Send(const std::string& patient, const std::vector<mpi::PatientPseudonym>& links);
  // The pseudonyms of a Patient body's valid national identifiers, sorted, no repeats;
  // `invalid` counts national identifiers that are not valid.
  std::vector<mpi::PatientPseudonym> LinksOf(const std::string& body, int& invalid) const;
  std::vector<std::pair<std::string, std::string>> Headers() const;
  Status SaveMark(int64_t mark);

  store::Store& store_;
  const mpi::Pseudonymizer& pseudonyms_;
  const security::NodeSigner& signer_;
  Clock& clock_;
  RegistrarOptions options_;
  std::atomic<int64_t> mark_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool nudged_ = false;
  std::thread thread_;
};

}  // namespace ehr::federation
