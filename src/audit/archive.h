// Retention of the audit log: old entries move out of the store into signed, compressed
// segment files (segment_file.h) in an archive directory (DATA/audit-archive), one file per
// segment, each segment a complete subtree of the Merkle tree (store.h, AuditSegment). The
// store keeps the subtrees, so roots and proofs of later entries still work, and
// `ehr audit verify` checks each file against the subtree it must reproduce (log.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/segment_file.h"
#include "audit/tree_head.h"
#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "store/store.h"

namespace ehr::audit {

inline constexpr int64_t kDefaultRetentionDays = 2557;  // 7 years

struct ArchiveOptions {
  Micros retention = kDefaultRetentionDays * 86'400'000'000LL;  // entries older are archived
  // Segment sizes, in leaves (powers of two). Smaller segments are not worth a file; a
  // smaller one is only made to reach the alignment of `min_leaves` again. A segment's
  // entries are deleted in one write transaction, during which appends wait: the maximum
  // bounds that wait (65536 rows: about half a second, README).
  uint64_t min_leaves = 1024;
  uint64_t max_leaves = uint64_t{1} << 16;
  // The archive keys (segment_file.h, ArchiveKeys): files are sealed under the newest,
  // since entries hold personal data. Empty: plain.
  ArchiveKeys keys;
  // When set, Archiver reads the keys again before each run (a rotation by `ehr keys rotate`
  // in another process), and seals again the files under older versions
  // (ResealArchivedSegments).
  std::function<Result<ArchiveKeys>()> load_keys;
};

struct ArchiveReport {
  std::vector<store::AuditSegment> archived;  // the segments made by this run, in order
  uint64_t entries = 0;                       // entries they hold
};

// Archives every complete segment of entries recorded before `now` - retention, largest
// aligned subtrees first, from the oldest entry still in the store; never the newest
// entry. Each file is durable before the segment is recorded and its entries are deleted,
// in one write transaction (Store::Write), so archiving never races appends; a segment
// whose entries were erased meanwhile is left for the next run. kInvalid when entries do
// not hash to their stored subtree (the log is damaged: ehr audit verify names where).
// Stops between segments once `cancel` (when given) is set.
Result<ArchiveReport> ArchiveOldEntries(store::Store& store, const std::filesystem::path& dir, const TreeSigner& signer,
                                        Micros now, const ArchiveOptions& options = {},
                                        const std::atomic<bool>* cancel = nullptr);

// Erasure in archived segments: rewrites (signed again, atomically replaced, sealed under
// the newest of `keys` when given) every segment file holding an entry about `patient` of
// `tenant`, with its patient and detail removed; the leaves do not change. Returns how
// many entries changed. The store's part is Store::EraseAuditDetail, to be called first.
Result<int64_t> EraseArchivedDetail(store::Store& store, const std::filesystem::path& dir, const TreeSigner& signer,
                                    std::string_view tenant, std::string_view patient, const ArchiveKeys& keys = {});

// Rotation of the archive key: rewrites every segment file not sealed under the newest of
// `keys` (an older version, or plain) under it, as erasure does (entries unchanged).
// Returns how many files. Nothing to do without keys.
Result<int> ResealArchivedSegments(store::Store& store, const std::filesystem::path& dir, const TreeSigner& signer,
                                   const ArchiveKeys& keys);

// Finishes a rewrite of a segment file that stopped between recording the new file's
// digest and renaming it into place (a crash during EraseArchivedDetail or
// ResealArchivedSegments). Called by the functions above before anything else. Every
// function here that writes files holds the archive directory's lock (a file `.lock` in
// it, flock) meanwhile, so a server's Archiver and an `ehr audit` command never rewrite
// one file at once.
Status CompleteSegmentRewrites(store::Store& store, const std::filesystem::path& dir);

// Runs ArchiveOldEntries once at Start and then every `interval` on its own thread, until
// Stop (or destruction), which a run in progress heeds after its current segment.
// Failures are logged (audit.archive_failed) and retried next time.
class Archiver {
 public:
  Archiver(store::Store& store, std::filesystem::path dir, TreeSigner signer, Clock& clock, ArchiveOptions options);
  ~Archiver();
  void Start(Micros interval);
  void Stop();
  Result<ArchiveReport> RunOnce();

 private:
  store::Store& store_;
  std::filesystem::path dir_;
  TreeSigner signer_;
  Clock& clock_;
  ArchiveOptions options_;
  std::atomic<bool> cancel_ = false;
  std::unique_ptr<Periodic> runs_;  // last: stopped before the rest goes
};

}  // namespace ehr::audit
