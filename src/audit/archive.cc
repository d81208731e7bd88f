#include "audit/archive.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <utility>

#include "audit/merkle.h"
#include "audit/segment_file.h"
#include "core/files.h"
#include "core/log.h"

namespace ehr::audit {
namespace {

constexpr int kPage = 1000;

std::string Range(uint64_t first, uint64_t count) {
  return "entries " + std::to_string(first) + " to " + std::to_string(first + count - 1);
}

// The entry at `index`, which must be in the store.
Result<store::AuditRow> EntryAt(store::Store& store, uint64_t index) {
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, store.AuditRange(index, 1));
  if (rows.empty() || rows.front().index != index) {
    return Status::Invalid("audit archive: entry " + std::to_string(index) + " is missing from the store");
  }
  return std::move(rows.front());
}

Status MakeDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("audit archive: cannot create " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);  // entries hold personal data
  return Status::Ok();
}

// The archive directory's lock (flock on DIR/.lock): held by whatever writes segment files,
// so that a server's Archiver and an `ehr audit` or `ehr keys` command take turns.
class DirectoryLock {
 public:
  static Result<DirectoryLock> Take(const std::filesystem::path& dir) {
    EHR_RETURN_IF_ERROR(MakeDirectory(dir));
    const int fd = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::Unavailable("audit archive: cannot open " + (dir / ".lock").string());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        return Status::Unavailable("audit archive: cannot lock " + dir.string());
      }
    }
    return DirectoryLock(fd);
  }
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

// The length of the next segment from `first`: the largest power of two that `first` is a
// multiple of, within the options, ending before the newest entry, whose last entry is
// older than `cutoff` (times only grow along the log). 0 when there is none.
Result<uint64_t> NextSegment(store::Store& store, uint64_t first, uint64_t size, Micros cutoff,
                             const ArchiveOptions& options) {
  const uint64_t min_leaves = std::max<uint64_t>(2, std::bit_ceil(options.min_leaves));
  const uint64_t max_leaves = std::max(min_leaves, std::bit_floor(options.max_leaves));
  for (uint64_t length = max_leaves; length >= 2; length >>= 1) {
    if (first % length != 0 || first + length >= size) continue;
    if (length < min_leaves && first % min_leaves == 0) return 0;
    EHR_ASSIGN_OR_RETURN(store::AuditRow last, EntryAt(store, first + length - 1));
    if (last.recorded < cutoff) return length;
  }
  return 0;
}

// Writes the file of segment [first, first + count) from the store. Sets `erased` to how
// many of its entries were erased when read.
Result<store::AuditSegment> WriteSegment(store::Store& store, const std::filesystem::path& dir,
                                         const TreeSigner& signer, uint64_t first, uint64_t count, Micros cutoff,
                                         const ArchiveKeys& keys, uint64_t& erased) {
  const int level = std::countr_zero(count);
  store::AuditSegment segment;
  segment.first = first;
  segment.count = count;
  segment.file = SegmentFileName(first, count);
  EHR_ASSIGN_OR_RETURN(segment.subtree, store.AuditNode(level, first >> level));
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> writer,
                       SegmentWriter::Create(dir / segment.file, SegmentHeader{first, count, segment.subtree}, keys));
  Frontier frontier;
  erased = 0;
  while (frontier.size() < count) {
    const int page = static_cast<int>(std::min<uint64_t>(kPage, count - frontier.size()));
    EHR_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, store.AuditRange(first + frontier.size(), page));
    if (rows.empty()) return Status::Invalid("audit archive: " + Range(first, count) + " are not all in the store");
    for (const store::AuditRow& row : rows) {
      if (row.index != first + frontier.size()) {
        return Status::Invalid("audit archive: entry " + std::to_string(first + frontier.size()) +
                               " is missing from the store");
      }
      if (row.recorded >= cutoff) {
        return Status::Invalid("audit archive: entry " + std::to_string(row.index) +
                               " is newer than the entry after it; run ehr audit verify");
      }
      if (!row.detail) ++erased;
      frontier.Append(LeafHash(row.core));
      EHR_RETURN_IF_ERROR(writer->Add(row));
    }
  }
  if (frontier.Root() != segment.subtree) {
    return Status::Invalid("audit archive: " + Range(first, count) +
                           " do not hash to their stored subtree; run ehr audit verify");
  }
  // Never over a file of a recorded segment (another archiver may have recorded it, and an
  // erasure rewritten it, since this run began): a file is only there unrecorded when a
  // run stopped between writing and recording it, and is then written again.
  const std::filesystem::path path = dir / segment.file;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> recorded, store.AuditSegments());
    for (const store::AuditSegment& s : recorded) {
      if (s.file == segment.file) return Status::Conflict("audit archive: " + segment.file + " is archived already");
    }
    std::filesystem::remove(path, ec);
  }
  EHR_ASSIGN_OR_RETURN(segment.sha256, writer->Commit(signer, /*replace=*/false));
  return segment;
}

}  // namespace

Status CompleteSegmentRewrites(store::Store& store, const std::filesystem::path& dir) {
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  for (const store::AuditSegment& segment : segments) {
    const std::filesystem::path next = dir / (segment.file + ".next");
    std::error_code ec;
    if (!std::filesystem::exists(next, ec)) continue;
    auto reader = SegmentReader::Open(next, {});
    if (reader.ok() && (*reader)->sha256() == segment.sha256) {
      if (::rename(next.c_str(), (dir / segment.file).c_str()) != 0) {
        return Status::Unavailable("audit archive: cannot rename " + next.string());
      }
    } else {
      std::filesystem::remove(next, ec);  // its digest was never recorded: the old file stands
    }
    EHR_RETURN_IF_ERROR(SyncDirectory(dir));
  }
  return Status::Ok();
}

Result<ArchiveReport> ArchiveOldEntries(store::Store& store, const std::filesystem::path& dir, const TreeSigner& signer,
                                        Micros now, const ArchiveOptions& options, const std::atomic<bool>* cancel) {
  EHR_ASSIGN_OR_RETURN(DirectoryLock lock, DirectoryLock::Take(dir));
  EHR_RETURN_IF_ERROR(CompleteSegmentRewrites(store, dir));
  const Micros cutoff = now - options.retention;
  ArchiveReport report;
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  uint64_t first = 0;
  for (const store::AuditSegment& s : segments) first = std::max(first, s.first + s.count);
  EHR_ASSIGN_OR_RETURN(uint64_t size, store.AuditSize());
  while (cancel == nullptr || !cancel->load()) {
    EHR_ASSIGN_OR_RETURN(uint64_t count, NextSegment(store, first, size, cutoff, options));
    if (count == 0) break;
    uint64_t erased = 0;
    Result<store::AuditSegment> written = WriteSegment(store, dir, signer, first, count, cutoff, options.keys, erased);
    if (written.status().code() == Code::kConflict) {
      log::Warn("audit.archive_deferred", {{"first", first}, {"count", count}});
      break;  // another archiver got there first
    }
    EHR_RETURN_IF_ERROR(written.status());
    store::AuditSegment segment = std::move(*written);
    const auto write_start = std::chrono::steady_clock::now();
    Status recorded = store.Write([&](store::WriteTxn& txn) {
      segment.archived_at = txn.Now();
      return txn.ArchiveAudit(segment, erased);
    });
    if (recorded.code() == Code::kConflict) {
      // An erasure ran while the file was written: the next run writes it again.
      log::Warn("audit.archive_deferred", {{"first", first}, {"count", count}});
      break;
    }
    EHR_RETURN_IF_ERROR(recorded);
    // How long appends waited behind the deletion.
    const auto write_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - write_start).count();
    log::Info(
        "audit.archived",
        {{"first", first}, {"count", count}, {"file", segment.file}, {"write_ms", static_cast<int64_t>(write_ms)}});
    report.entries += count;
    report.archived.push_back(std::move(segment));
    first += count;
  }
  return report;
}

namespace {

// A segment file opened for what it holds: it must be the one recorded (signing a rewrite
// of it must not bless anything else).
Result<std::unique_ptr<SegmentReader>> OpenRecorded(const std::filesystem::path& dir, const store::AuditSegment& segment,
                                                    const TreeSigner& signer, const ArchiveKeys& keys) {
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader,
                       SegmentReader::Open(dir / segment.file, signer.public_key(), keys));
  const SegmentHeader& h = reader->header();
  if (h.first != segment.first || h.count != segment.count || h.subtree != segment.subtree) {
    return Status::Invalid("audit archive: " + segment.file + " is not the segment recorded for " +
                           Range(segment.first, segment.count));
  }
  return reader;
}

// Writes `segment`'s file again under the newest of `keys`, each entry passed through
// `change` first: signed again, its digest recorded, then renamed into place (a crash
// between the two is finished by CompleteSegmentRewrites).
Status RewriteSegment(store::Store& store, const std::filesystem::path& dir, const store::AuditSegment& segment,
                      const TreeSigner& signer, const ArchiveKeys& keys, const std::function<void(store::AuditRow&)>& change) {
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader, OpenRecorded(dir, segment, signer, keys));
  const std::filesystem::path path = dir / segment.file;
  const std::filesystem::path next = dir / (segment.file + ".next");
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> writer, SegmentWriter::Create(next, reader->header(), keys));
  store::AuditRow row;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool more, reader->Next(row));
    if (!more) break;
    change(row);
    EHR_RETURN_IF_ERROR(writer->Add(row));
  }
  EHR_ASSIGN_OR_RETURN(std::string sha256, writer->Commit(signer));
  // The digest is recorded first: a crash before the rename leaves `next` to be put in
  // place by CompleteSegmentRewrites, never a recorded digest without its file.
  EHR_RETURN_IF_ERROR(store.Write([&](store::WriteTxn& txn) { return txn.SetAuditSegmentDigest(segment.first, sha256); }));
  if (::rename(next.c_str(), path.c_str()) != 0) return Status::Unavailable("audit archive: cannot rename " + next.string());
  return SyncDirectory(dir);
}

}  // namespace

Result<int64_t> EraseArchivedDetail(store::Store& store, const std::filesystem::path& dir, const TreeSigner& signer,
                                    std::string_view tenant, std::string_view patient, const ArchiveKeys& keys) {
  EHR_ASSIGN_OR_RETURN(DirectoryLock lock, DirectoryLock::Take(dir));
  EHR_RETURN_IF_ERROR(CompleteSegmentRewrites(store, dir));
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  int64_t changed = 0;
  auto about = [&](const store::AuditRow& row) { return row.tenant == tenant && row.patient == patient; };
  for (const store::AuditSegment& segment : segments) {
    int64_t matches = 0;
    {
      EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader, OpenRecorded(dir, segment, signer, keys));
      store::AuditRow row;
      while (true) {
        EHR_ASSIGN_OR_RETURN(bool more, reader->Next(row));
        if (!more) break;
        if (about(row)) ++matches;
      }
    }
    if (matches == 0) continue;
    EHR_RETURN_IF_ERROR(RewriteSegment(store, dir, segment, signer, keys, [&](store::AuditRow& row) {
      if (!about(row)) return;
      row.patient.reset();
      row.detail.reset();
    }));
    changed += matches;
  }
  return changed;
}

Result<int> ResealArchivedSegments(store::Store& store, const std::filesystem::path& dir, const TreeSigner& signer,
                                   const ArchiveKeys& keys) {
  if (keys.empty()) return 0;
  EHR_ASSIGN_OR_RETURN(DirectoryLock lock, DirectoryLock::Take(dir));
  EHR_RETURN_IF_ERROR(CompleteSegmentRewrites(store, dir));
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  int resealed = 0;
  for (const store::AuditSegment& segment : segments) {
    // The header says; the rewrite reads and checks the whole file (read daily: cheap).
    EHR_ASSIGN_OR_RETURN(uint32_t version, SegmentKeyVersion(dir / segment.file));
    if (version == keys.current_version()) continue;
    EHR_RETURN_IF_ERROR(RewriteSegment(store, dir, segment, signer, keys, [](store::AuditRow&) {}));
    log::Info("audit.archive_resealed", {{"file", segment.file}, {"key_version", static_cast<int64_t>(keys.current_version())}});
    ++resealed;
  }
  return resealed;
}

Archiver::Archiver(store::Store& store, std::filesystem::path dir, TreeSigner signer, Clock& clock,
                   ArchiveOptions options)
    : store_(store), dir_(std::move(dir)), signer_(std::move(signer)), clock_(clock), options_(options) {}

Archiver::~Archiver() { Stop(); }

Result<ArchiveReport> Archiver::RunOnce() {
  if (options_.load_keys) {
    EHR_ASSIGN_OR_RETURN(options_.keys, options_.load_keys());
  }
  EHR_ASSIGN_OR_RETURN(ArchiveReport report, ArchiveOldEntries(store_, dir_, signer_, clock_.Now(), options_, &cancel_));
  if (options_.load_keys) {
    EHR_RETURN_IF_ERROR(ResealArchivedSegments(store_, dir_, signer_, options_.keys).status());
  }
  return report;
}

void Archiver::Start(Micros interval) {
  Stop();
  cancel_ = false;
  runs_ = std::make_unique<Periodic>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(interval)),
      [this](const Periodic::Stopping&) {
        auto archived = RunOnce();
        if (!archived.ok()) log::Warn("audit.archive_failed", {{"error", archived.status().message()}});
      });
}

void Archiver::Stop() {
  cancel_ = true;  // a run in progress stops after its current segment
  runs_.reset();
}

}  // namespace ehr::audit
