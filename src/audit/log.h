// The audit log over a store: publishing signed tree heads, proofs, and the offline check
// `ehr audit verify` runs (store/store.h keeps the entries and their Merkle subtrees).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/entry.h"
#include "audit/merkle.h"
#include "audit/segment_file.h"
#include "audit/tree_head.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace ehr::audit {

// The key id of a public key: hex of the first 8 bytes of its SHA-256.
std::string KeyIdOf(std::string_view public_key);

// The store's complete subtrees as an audit::NodeAt; a missing one sets `error`.
NodeAt StoredNodes(store::Store& store, Status& error);

// Signs and stores tree heads: on demand, and every `interval` while the log grows. Each
// head is also written to the application log (event audit.tree_head: size, root,
// signature, no personal data), so that a copy exists outside the database.
class TreeHeadPublisher {
 public:
  TreeHeadPublisher(store::Store& store, TreeSigner signer, Clock& clock);
  ~TreeHeadPublisher();  // stops the interval thread

  // A head for the log as it is now (the stored one when the log has not grown).
  Result<store::AuditHead> Publish();
  void Start(Micros interval);
  void Stop();
  const std::string& public_key() const { return signer_.public_key(); }
  const std::string& key_id() const { return key_id_; }

 private:
  store::Store& store_;
  TreeSigner signer_;
  std::string key_id_;
  Clock& clock_;
  std::mutex mu_;  // one Publish at a time; guards stop_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// Entries reach the log in the order their appends commit, which lags the moment each was
// recorded (its `recorded` time, taken when the interaction happened) by its wait for the
// writer: concurrent reads recorded microseconds apart commit in either order, and a read
// recorded during a long write transaction commits after it. VerifyLog names an entry
// recorded more than this before an entry preceding it as reordered.
inline constexpr Micros kRecordingSkew = 60'000'000;

struct VerifyReport {
  uint64_t entries = 0;
  uint64_t heads = 0;           // signed heads checked
  uint64_t erased = 0;          // entries whose personal part was erased (allowed)
  uint64_t archived = 0;        // entries checked in archived segments' files
  std::vector<std::string> segments;  // one line per archived segment: OK or what is wrong
  std::vector<std::string> problems;  // the first names the first entry that is wrong
  bool ok() const { return problems.empty(); }
};

// Recomputes the whole log from its entries: each leaf from its content, each detail
// against its digest, the search columns against the content, every stored subtree, the
// order of times (within kRecordingSkew), and every signed head (signature with `public_key`; root of the
// recomputed tree at its size). The entries of archived segments are read from their
// files in `archive_dir` (archive.h), whose signatures (with `public_key`), digests and
// subtrees are checked too; a file missing, altered or signed by another key is named.
// Sealed files are opened with `archive_keys` (segment_file.h, each file under the version
// it names); without that key verification fails (kUnavailable) rather than skip them.
// Stops collecting after `max_problems`.
Result<VerifyReport> VerifyLog(store::Store& store, std::string_view public_key,
                               const std::filesystem::path& archive_dir = {}, const ArchiveKeys& archive_keys = {},
                               size_t max_problems = 20);

// What ExportLog passes on: entries of `tenant` (every tenant when empty), about
// `patient` (any when empty; erased entries name none), recorded in [from, to).
struct ExportFilter {
  std::string tenant;
  std::string patient;
  Micros from = 0;
  Micros to = INT64_MAX;
};

// Every entry of the log in order, archived ones read from their files in `archive_dir`
// (signature checked with `public_key`, opened with `archive_keys`) and the rest from the
// store, decoded, to `emit` when it passes `filter` (`index`: its place in the log).
// Returns how many were emitted; kInvalid naming the entry or file that does not verify
// (ehr audit verify says more).
Result<uint64_t> ExportLog(store::Store& store, std::string_view public_key, const std::filesystem::path& archive_dir,
                           const ArchiveKeys& archive_keys, const ExportFilter& filter,
                           const std::function<void(const Event& e, uint64_t index, bool erased)>& emit);

}  // namespace ehr::audit
