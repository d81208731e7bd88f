// The file of an archived segment of the audit log (store.h, AuditSegment; archive.h): every
// column of its entries, enough to recompute their leaves and to render them offline.
//   header   "EHRAUDIT", format version (u32), [format 3: the archive key's version (u32)],
//            first leaf (u64), leaf count (u64), the segment's subtree hash (32 bytes)
//   body     a gzip stream of the entries in leaf order, each: tenant, recorded (u64),
//            action, agent, patient, core, detail, leaf; byte strings as a u32 length and
//            the bytes, an absent patient or detail as the length 0xffffffff.
//            Format version 3 (written whenever there is an archive key, ArchiveKeys) and
//            2 (earlier, sealed under the first archive key): the gzip stream cut into chunks of 64 KiB, each
//            stored as a u32 length and its AES-256-GCM seal (keys/aead.h) with the
//            header, the chunk's number (u64) and whether it is the last (1 byte) as
//            additional data, so chunks cannot be reordered, moved or cut off unseen;
//            version 1 (no key store): the stream as it is
//   trailer  the key id of the signer (8 bytes: the first of SHA-256 of its public key) and
//            its Ed25519 signature (64 bytes) of "ehr audit segment v1\n" followed by the
//            SHA-256 of header and body
// Integers are big-endian. The signature lives in the file it signs (not beside it) so
// that one rename replaces both at once. Files are written to a temporary name, synced,
// renamed into place and the directory synced, mode 0600 (details are personal data).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "audit/tree_head.h"
#include "core/status.h"
#include "store/store.h"

namespace ehr::audit {

// The archive keys by version (32 bytes each; the key store's secrets "audit-archive" for
// version 1 and "audit-archive-<n>" after it, cli/key_store.h): files are sealed under the
// newest and read under the one their header names, so the key can be rotated and files
// sealed again (archive.h, ResealArchivedSegments).
class ArchiveKeys {
 public:
  ArchiveKeys() = default;
  // One key, version 1 (an empty one: none).
  ArchiveKeys(std::string key) {  // NOLINT: implicit, a single key is the common case
    if (!key.empty()) Add(1, std::move(key));
  }
  void Add(uint32_t version, std::string key) { keys_[version] = std::move(key); }
  bool empty() const { return keys_.empty(); }
  uint32_t current_version() const { return keys_.empty() ? 0 : keys_.rbegin()->first; }
  const std::string& current() const;  // "" when empty
  const std::string* Find(uint32_t version) const;
  const std::map<uint32_t, std::string>& all() const { return keys_; }

 private:
  std::map<uint32_t, std::string> keys_;
};

struct SegmentHeader {
  uint64_t first = 0;
  uint64_t count = 0;
  std::string subtree;  // 32 bytes
};

// Writes one segment file. Not thread-safe. Destroying it before Commit leaves nothing.
class SegmentWriter {
 public:
  // Starts writing the file that Commit will put at `path`, sealed with the newest of `keys`
  // (format version 3; none: format version 1, plain).
  static Result<std::unique_ptr<SegmentWriter>> Create(std::filesystem::path path, SegmentHeader header,
                                                       const ArchiveKeys& keys = {});
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Appends the next entry (rows in leaf order, header.count of them in all).
  Status Add(const store::AuditRow& row);
  // Signs the file, syncs it and renames it into place; returns the SHA-256 of the whole
  // file. kInvalid unless exactly header.count entries were added. Without `replace`, a
  // file already at the path stays and the answer is kConflict.
  Result<std::string> Commit(const TreeSigner& signer, bool replace = true);

 private:
  struct State;
  explicit SegmentWriter(std::unique_ptr<State> state);
  Status Deflate(std::string_view bytes, bool finish);
  std::unique_ptr<State> state_;
};

// Reads one segment file, entries one at a time (a segment may not fit in memory).
class SegmentReader {
 public:
  // Opens `path`: reads the header and checks the signature with `public_key` (not checked
  // when empty). kNotFound when there is no such file; kInvalid naming what is wrong.
  // Next() answers kUnavailable for a sealed file opened without the archive key version
  // it was sealed under.
  static Result<std::unique_ptr<SegmentReader>> Open(const std::filesystem::path& path, std::string_view public_key,
                                                     const ArchiveKeys& keys = {});
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  const SegmentHeader& header() const;
  const std::string& sha256() const;  // of the whole file
  const std::string& key_id() const;  // hex, as KeyIdOf
  uint32_t archive_key_version() const;  // the archive key it is sealed under; 0: plain
  // The next entry, its index set from the header: false after the last; kInvalid when the
  // body is damaged or holds more or fewer entries than the header says.
  Result<bool> Next(store::AuditRow& row);

 private:
  struct State;
  explicit SegmentReader(std::unique_ptr<State> state);
  Result<bool> Read(char* out, size_t n);  // false at a clean end of the body
  std::unique_ptr<State> state_;
};

// The archive key version a segment file's header names (0: plain), from its first 16
// bytes only (nothing verified: for deciding what to seal again, which verifies); kNotFound
// when there is no such file, kInvalid when it is not a segment file.
Result<uint32_t> SegmentKeyVersion(const std::filesystem::path& path);

// The file name of a segment: audit-<first>-<count>.seg (zero-padded, so names sort by first).
std::string SegmentFileName(uint64_t first, uint64_t count);

}  // namespace ehr::audit
