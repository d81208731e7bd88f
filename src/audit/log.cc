#include "audit/log.h"

#include <algorithm>
#include <bit>

#include "audit/entry.h"
#include "audit/segment_file.h"
#include "core/log.h"
#include "core/secrets.h"

namespace ehr::audit {
namespace {

std::string Entry(uint64_t index) { return "entry " + std::to_string(index); }

}  // namespace

std::string KeyIdOf(std::string_view public_key) { return HexEncode(Sha256(public_key).substr(0, 8)); }

NodeAt StoredNodes(store::Store& store, Status& error) {
  return [&store, &error](int level, uint64_t index) -> std::string {
    auto hash = store.AuditNode(level, index);
    if (hash.ok()) return *hash;
    if (error.ok()) error = hash.status();
    return std::string(kHashBytes, '\0');
  };
}

TreeHeadPublisher::TreeHeadPublisher(store::Store& store, TreeSigner signer, Clock& clock)
    : store_(store), signer_(std::move(signer)), key_id_(KeyIdOf(signer_.public_key())), clock_(clock) {}

TreeHeadPublisher::~TreeHeadPublisher() { Stop(); }

Result<store::AuditHead> TreeHeadPublisher::Publish() {
  std::lock_guard lock(mu_);
  EHR_ASSIGN_OR_RETURN(uint64_t size, store_.AuditSize());
  EHR_ASSIGN_OR_RETURN(std::optional<store::AuditHead> latest, store_.LatestAuditHead());
  if (latest && latest->size == size && latest->key_id == key_id_) return *latest;
  Status error;
  const std::string root = RootOf(size, StoredNodes(store_, error));
  EHR_RETURN_IF_ERROR(error);
  const TreeHead head = signer_.Sign(size, root, static_cast<uint64_t>(clock_.Now() / 1000));
  store::AuditHead stored{head.size, head.root, head.timestamp_ms, head.signature, key_id_};
  EHR_RETURN_IF_ERROR(store_.PutAuditHead(stored));
  log::Info("audit.tree_head", {{"size", static_cast<int64_t>(size)},
                                {"root", HexEncode(root)},
                                {"timestamp_ms", static_cast<int64_t>(head.timestamp_ms)},
                                {"signature", HexEncode(head.signature)},
                                {"key_id", key_id_}});
  return stored;
}

void TreeHeadPublisher::Start(Micros interval) {
  Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, std::chrono::microseconds(interval), [&] { return stop_; })) {
      lock.unlock();
      auto published = Publish();
      if (!published.ok()) log::Warn("audit.tree_head_failed", {{"error", published.status().message()}});
      lock.lock();
    }
  });
}

void TreeHeadPublisher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<VerifyReport> VerifyLog(store::Store& store, std::string_view public_key,
                               const std::filesystem::path& archive_dir, const ArchiveKeys& archive_keys,
                               size_t max_problems) {
  VerifyReport report;
  size_t problems = 0;  // all of them, also those not collected
  auto problem = [&](std::string what) {
    ++problems;
    if (report.problems.size() < max_problems) report.problems.push_back(std::move(what));
  };
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditHead> heads, store.AuditHeads());
  for (const store::AuditHead& h : heads) {
    if (public_key.empty()) break;
    Status signed_ok = VerifyTreeHead(TreeHead{h.size, h.root, h.timestamp_ms, h.signature}, public_key);
    if (!signed_ok.ok()) {
      problem("the tree head of " + std::to_string(h.size) + " entries (signed at " +
              FormatInstant(static_cast<Micros>(h.timestamp_ms) * 1000) +
              ") does not carry a valid signature of this key");
    }
  }
  size_t next_head = 0;
  auto check_heads = [&](const Frontier& f) {
    while (next_head < heads.size() && heads[next_head].size <= f.size()) {
      const store::AuditHead& h = heads[next_head++];
      ++report.heads;
      if (h.size == f.size() && f.Root() != h.root) {
        problem("the first " + std::to_string(h.size) + " entries are not those of the tree head signed at " +
                FormatInstant(static_cast<Micros>(h.timestamp_ms) * 1000) +
                ": an entry among them was altered, removed or reordered");
      }
    }
  };

  Frontier frontier;
  check_heads(frontier);
  Micros last_recorded = 0;
  // The checks of the next entry, stored or archived; returns its recomputed leaf.
  auto check_entry = [&](const store::AuditRow& row) {
    const uint64_t index = frontier.size();
    std::string leaf = LeafHash(row.core);
    if (leaf != row.leaf) problem(Entry(index) + " was altered: its content does not hash to its stored leaf");
    if (!row.detail) ++report.erased;
    Result<Event> event = Decode(row.core, row.detail);
    if (!event.ok()) {
      problem(Entry(index) + " was altered: " + event.status().message());
    } else {
      const bool columns_agree = event->tenant == row.tenant && event->recorded == row.recorded &&
                                 event->action == row.action && event->user == row.agent &&
                                 (!row.detail || event->patient == row.patient.value_or(""));
      if (!columns_agree) problem(Entry(index) + " was altered: its search columns disagree with its content");
      if (event->recorded < last_recorded - kRecordingSkew) {
        problem(Entry(index) + " is out of order: recorded more than " + std::to_string(kRecordingSkew / 1'000'000) +
                " s before the entry preceding it (reordered)");
      }
      last_recorded = std::max(last_recorded, event->recorded);
    }
    frontier.Append(leaf, [&](int level, uint64_t node_index, const std::string& hash) {
      auto stored = store.AuditNode(level, node_index);
      if (!stored.ok() || *stored != hash) {
        const uint64_t first = node_index << level;
        problem("entries " + std::to_string(first) + " to " + std::to_string(first + (uint64_t{1} << level) - 1) +
                " do not hash to the subtree stored when they were written: one was altered or reordered");
      }
    });
    check_heads(frontier);
    return leaf;
  };

  // An archived segment (archive.h): its file, signed with the key, must hold entries that
  // pass the checks above and hash to the subtree recorded for them. A file that cannot be
  // used is named, and the log goes on from the stored subtree.
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  auto check_segment = [&](const store::AuditSegment& s) -> Status {
    const std::string name = "archived segment " + s.file + " (entries " + std::to_string(s.first) + " to " +
                             std::to_string(s.first + s.count - 1) + ")";
    const Frontier before = frontier;
    const size_t heads_before = next_head;
    const size_t problems_before = problems;
    std::string failure;
    auto reader = SegmentReader::Open(archive_dir / s.file, public_key, archive_keys);
    if (!reader.ok()) {
      const Code code = reader.status().code();
      if (code != Code::kInvalid && code != Code::kNotFound) return reader.status();
      failure = reader.status().message();
    } else if (const SegmentHeader& h = (*reader)->header();
               h.first != s.first || h.count != s.count || h.subtree != s.subtree) {
      failure = "holds another segment than the one recorded (its header differs)";
    } else if ((*reader)->sha256() != s.sha256) {
      failure = "is not the file recorded for the segment (its digest differs): it was replaced";
    }
    Frontier leaves;
    store::AuditRow row;
    while (failure.empty()) {
      Result<bool> more = (*reader)->Next(row);
      if (!more.ok()) {
        if (more.status().code() != Code::kInvalid) return more.status();
        failure = more.status().message();
      } else if (!*more) {
        break;
      } else {
        leaves.Append(check_entry(row));
      }
    }
    if (failure.empty() && leaves.Root() != s.subtree) {
      failure = "does not hash to the subtree recorded for it: its entries were altered";
    }
    if (failure.empty()) {
      report.archived += s.count;
      report.segments.push_back(name + (problems == problems_before ? ": OK" : ": entries in it are wrong"));
      return Status::Ok();
    }
    problem(name + ": " + failure);
    report.segments.push_back(name + ": FAILED: " + failure);
    // Without its entries, the log goes on from the subtree the store kept; heads signed
    // within the segment cannot be checked.
    frontier = before;
    const int level = std::countr_zero(s.count);
    auto stored = store.AuditNode(level, s.first >> level);
    frontier.AppendSubtree(level, stored.ok() ? *stored : s.subtree);
    for (next_head = heads_before; next_head < heads.size() && heads[next_head].size < frontier.size();) ++next_head;
    check_heads(frontier);
    return Status::Ok();
  };
  size_t next_segment = 0;
  auto archived_here = [&]() -> Status {
    while (next_segment < segments.size() && segments[next_segment].first == frontier.size()) {
      EHR_RETURN_IF_ERROR(check_segment(segments[next_segment++]));
    }
    return Status::Ok();
  };

  EHR_RETURN_IF_ERROR(archived_here());
  constexpr int kPage = 1000;
  while (true) {
    EHR_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, store.AuditRange(frontier.size(), kPage));
    if (rows.empty()) break;
    for (store::AuditRow& row : rows) {
      EHR_RETURN_IF_ERROR(archived_here());
      const uint64_t index = frontier.size();
      if (row.index < index) {
        problem(Entry(row.index) + " is in the store although it was archived: it was added back");
        continue;
      }
      if (row.index != index) {
        problem(Entry(index) + " is missing (the next entry stored is " + std::to_string(row.index) +
                "): entries were removed");
        return report;  // every later index is shifted: nothing more to say that is true
      }
      check_entry(row);
    }
  }
  EHR_RETURN_IF_ERROR(archived_here());
  for (; next_segment < segments.size(); ++next_segment) {
    problem("archived segment " + segments[next_segment].file + " starts after the end of the log (" +
            std::to_string(frontier.size()) + " entries): entries before it were removed");
  }
  report.entries = frontier.size();
  for (; next_head < heads.size(); ++next_head) {
    const store::AuditHead& h = heads[next_head];
    problem("a tree head signed at " + FormatInstant(static_cast<Micros>(h.timestamp_ms) * 1000) + " covers " +
            std::to_string(h.size) + " entries, but the log holds " + std::to_string(report.entries) +
            ": entries from " + std::to_string(report.entries) + " on were removed (truncated)");
  }
  // Indexes the store keeps apart from the entries must agree with them.
  EHR_ASSIGN_OR_RETURN(std::vector<std::string> index_problems, store.VerifyAuditIndexes(max_problems));
  for (std::string& p : index_problems) problem(std::move(p));
  return report;
}

Result<uint64_t> ExportLog(store::Store& store, std::string_view public_key, const std::filesystem::path& archive_dir,
                           const ArchiveKeys& archive_keys, const ExportFilter& filter,
                           const std::function<void(const Event& e, uint64_t index, bool erased)>& emit) {
  uint64_t emitted = 0;
  auto pass = [&](const store::AuditRow& row) -> Status {
    if (!filter.tenant.empty() && row.tenant != filter.tenant) return Status::Ok();
    if (!filter.patient.empty() && row.patient.value_or("") != filter.patient) return Status::Ok();
    if (row.recorded < filter.from || row.recorded >= filter.to) return Status::Ok();
    if (LeafHash(row.core) != row.leaf) {
      return Status::Invalid("entry " + std::to_string(row.index) + " was altered (ehr audit verify says more)");
    }
    Result<Event> event = Decode(row.core, row.detail);
    if (!event.ok()) {
      return Status::Invalid("entry " + std::to_string(row.index) + " was altered: " + event.status().message());
    }
    emit(*event, row.index, !row.detail.has_value());
    ++emitted;
    return Status::Ok();
  };
  EHR_ASSIGN_OR_RETURN(std::vector<store::AuditSegment> segments, store.AuditSegments());
  uint64_t next = 0;
  for (const store::AuditSegment& s : segments) {
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader,
                         SegmentReader::Open(archive_dir / s.file, public_key, archive_keys));
    if (reader->sha256() != s.sha256) {
      return Status::Invalid(s.file + " is not the file recorded for its segment (ehr audit verify says more)");
    }
    store::AuditRow row;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool more, reader->Next(row));
      if (!more) break;
      EHR_RETURN_IF_ERROR(pass(row));
    }
    next = std::max(next, s.first + s.count);
  }
  constexpr int kPage = 1000;
  while (true) {
    EHR_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, store.AuditRange(next, kPage));
    if (rows.empty()) break;
    for (const store::AuditRow& row : rows) EHR_RETURN_IF_ERROR(pass(row));
    next = rows.back().index + 1;
  }
  return emitted;
}

}  // namespace ehr::audit
