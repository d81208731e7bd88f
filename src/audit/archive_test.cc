// Archived segments of the audit log, with real files and the real SQLite store: the
// segment file written and read back, its signature refused when a byte changes or another
// key signed it; archiving by age (which segments, what stays in the store), the log and
// proofs of later entries still verifying against signed heads, VerifyLog naming a segment
// file missing, altered, or signed again with another key, and erasure inside a segment.
#include "audit/archive.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "audit/entry.h"
#include "audit/log.h"
#include "audit/segment_file.h"
#include "core/secrets.h"
#include "store/sqlite/test_util.h"

namespace ehr::audit {
namespace {

using store::testing::TempDir;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TreeSigner Signer(char seed) {
  auto signer = TreeSigner::FromSeed(std::string(32, seed));
  EXPECT_TRUE(signer.ok());
  return *signer;
}

store::AuditRow Row(uint64_t index, bool erased) {
  store::AuditRow r;
  r.index = index;
  r.tenant = "default";
  r.recorded = 1000 + static_cast<Micros>(index);
  r.action = "R";
  r.agent = "u" + std::to_string(index);
  if (!erased) r.patient = "patient-" + std::to_string(index);
  r.core = "{\"core\":" + std::to_string(index) + "}";
  if (!erased) r.detail = std::string("detail with \0 and \xff", 19);
  r.leaf = LeafHash(r.core);
  return r;
}

TEST(SegmentFile, EntriesComeBackAsWrittenAndTheSignatureGuardsEveryByte) {
  TempDir dir;
  const std::filesystem::path path = std::filesystem::path(dir.path()) / SegmentFileName(8, 4);
  const TreeSigner signer = Signer('a');
  const std::string subtree(32, 's');
  {
    auto writer = SegmentWriter::Create(path, SegmentHeader{8, 4, subtree});
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    for (uint64_t i = 8; i < 11; ++i) ASSERT_TRUE((*writer)->Add(Row(i, i == 9)).ok());
    auto short_commit = (*writer)->Commit(signer);
    EXPECT_EQ(short_commit.status().code(), Code::kInvalid) << "three entries of four";
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "an uncommitted file leaves nothing";
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "nor a temporary file";
  std::string sha256;
  {
    auto writer = SegmentWriter::Create(path, SegmentHeader{8, 4, subtree});
    ASSERT_TRUE(writer.ok());
    for (uint64_t i = 8; i < 12; ++i) ASSERT_TRUE((*writer)->Add(Row(i, i == 9)).ok());
    auto committed = (*writer)->Commit(signer);
    ASSERT_TRUE(committed.ok()) << committed.status().message();
    sha256 = *committed;
  }
  const std::string bytes = ReadFile(path);
  EXPECT_EQ(Sha256(bytes), sha256);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  {
    auto reader = SegmentReader::Open(path, signer.public_key());
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    EXPECT_EQ((*reader)->header().first, 8u);
    EXPECT_EQ((*reader)->header().count, 4u);
    EXPECT_EQ((*reader)->header().subtree, subtree);
    EXPECT_EQ((*reader)->sha256(), sha256);
    EXPECT_EQ((*reader)->key_id(), KeyIdOf(signer.public_key()));
    store::AuditRow row;
    for (uint64_t i = 8; i < 12; ++i) {
      auto more = (*reader)->Next(row);
      ASSERT_TRUE(more.ok() && *more) << i;
      const store::AuditRow want = Row(i, i == 9);
      EXPECT_EQ(row.index, i);
      EXPECT_EQ(row.tenant, want.tenant);
      EXPECT_EQ(row.recorded, want.recorded);
      EXPECT_EQ(row.action, want.action);
      EXPECT_EQ(row.agent, want.agent);
      EXPECT_EQ(row.patient, want.patient);
      EXPECT_EQ(row.core, want.core);
      EXPECT_EQ(row.detail, want.detail);
      EXPECT_EQ(row.leaf, want.leaf);
    }
    auto end = (*reader)->Next(row);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(*end);
  }
  // Every byte is covered: the header, the compressed body, the signature itself.
  for (size_t at : {size_t{0}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    WriteFile(path, flipped);
    auto reader = SegmentReader::Open(path, signer.public_key());
    ASSERT_FALSE(reader.ok()) << at;
    EXPECT_NE(reader.status().message().find("does not match its signature"), std::string::npos)
        << reader.status().message();
  }
  WriteFile(path, bytes.substr(0, bytes.size() - 100));
  EXPECT_EQ(SegmentReader::Open(path, signer.public_key()).status().code(), Code::kInvalid);
  WriteFile(path, bytes);
  auto other = SegmentReader::Open(path, Signer('b').public_key());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("signed by another key"), std::string::npos) << other.status().message();
  std::filesystem::remove(path);
  EXPECT_EQ(SegmentReader::Open(path, signer.public_key()).status().code(), Code::kNotFound);
}

// Format 2: the compressed entries in sealed chunks. Without the archive key the header
// and digests are readable (erasure's crash recovery needs them) but no entry is; with
// another key, or with chunks reordered or cut off, nothing opens.
TEST(SegmentFile, SealedFilesHoldNoEntryInClearAndOpenOnlyWithTheirKey) {
  TempDir dir;
  const std::filesystem::path path = std::filesystem::path(dir.path()) / SegmentFileName(0, 2048);
  const TreeSigner signer = Signer('a');
  const std::string key = RandomBytes(32), subtree(32, 's');
  const std::string marker = "Hennessy-PHI-marker";
  std::vector<std::string> details;
  {
    auto writer = SegmentWriter::Create(path, SegmentHeader{0, 2048, subtree}, key);
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    for (uint64_t i = 0; i < 2048; ++i) {
      store::AuditRow row = Row(i, false);
      row.detail = marker + RandomBytes(80);  // incompressible: several chunks
      details.push_back(*row.detail);
      ASSERT_TRUE((*writer)->Add(row).ok());
    }
    ASSERT_TRUE((*writer)->Commit(signer).ok());
  }
  const std::string bytes = ReadFile(path);
  EXPECT_EQ(bytes.substr(8, 8), std::string("\0\0\0\3\0\0\0\1", 8)) << "format 3, archive key version 1";
  EXPECT_EQ(bytes.find(marker), std::string::npos);
  EXPECT_EQ(bytes.find("patient-7"), std::string::npos);
  auto read_all = [&](std::string_view public_key, std::string with) -> Status {
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader, SegmentReader::Open(path, public_key, with));
    store::AuditRow row;
    for (uint64_t i = 0;; ++i) {
      EHR_ASSIGN_OR_RETURN(bool more, reader->Next(row));
      if (!more) return i == 2048 ? Status::Ok() : Status::Internal("short");
      if (row.detail != details[i] || row.patient != "patient-" + std::to_string(i)) return Status::Internal("differs");
    }
  };
  EXPECT_TRUE(read_all(signer.public_key(), key).ok());
  auto without = read_all(signer.public_key(), "");
  EXPECT_EQ(without.code(), Code::kUnavailable) << without.message();
  EXPECT_NE(without.message().find("archive key"), std::string::npos) << without.message();
  auto wrong = read_all(signer.public_key(), RandomBytes(32));
  EXPECT_EQ(wrong.code(), Code::kInvalid) << wrong.message();

  // The chunks (after the 64-byte header of format 3, before the 72-byte trailer),
  // reordered or cut, with the signature left unchecked: the chunks' own binding refuses them.
  std::vector<std::string> chunks;
  for (size_t at = 64; at < bytes.size() - 72;) {
    const size_t n = (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
                     (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]);
    chunks.push_back(bytes.substr(at, 4 + n));
    at += 4 + n;
  }
  ASSERT_GE(chunks.size(), 2u);
  const std::string head = bytes.substr(0, 64), trailer = bytes.substr(bytes.size() - 72);
  std::string swapped = head + chunks[1] + chunks[0];
  for (size_t i = 2; i < chunks.size(); ++i) swapped += chunks[i];
  ASSERT_EQ(swapped.size() + trailer.size(), bytes.size());
  WriteFile(path, swapped + trailer);
  EXPECT_EQ(read_all("", key).code(), Code::kInvalid);
  std::string cut = head;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) cut += chunks[i];
  WriteFile(path, cut + trailer);
  EXPECT_EQ(read_all("", key).code(), Code::kInvalid);
  WriteFile(path, bytes);
  EXPECT_TRUE(read_all("", key).ok());
}

// Files of formats 2 and 3 written by another implementation (fuzz/make_sealed_seeds.py,
// from the description in segment_file.h) read here: the format is what the header says.
TEST(SegmentFile, ASealedFileWrittenElsewhereFromTheFormatReads) {
  const std::string dir = std::string(EHR_SOURCE_TREE) + "/fuzz/corpus/audit_segment/";
  auto reader = SegmentReader::Open(dir + "sealed-valid-three-entries.seg", Signer('f').public_key(), std::string(32, 'k'));
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  store::AuditRow row;
  for (uint64_t i = 4; i < 7; ++i) {
    auto more = (*reader)->Next(row);
    ASSERT_TRUE(more.ok() && *more) << (more.ok() ? "ended early" : more.status().message());
    EXPECT_EQ(row.index, i);
    EXPECT_EQ(row.core, "{\"core\":" + std::to_string(i) + "}");
    EXPECT_EQ(row.patient.has_value(), i != 5);
    EXPECT_EQ(row.detail ? row.detail->size() : 0u, i != 5 ? 40000u : 0u);
  }
  auto end = (*reader)->Next(row);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  for (const char* damaged : {"sealed-chunk-altered-resigned.seg", "sealed-last-chunk-cut-resigned.seg"}) {
    auto r = SegmentReader::Open(dir + damaged, Signer('f').public_key(), std::string(32, 'k'));
    ASSERT_TRUE(r.ok()) << damaged << ": signed again, so it opens";
    Result<bool> more = true;
    while (more.ok() && *more) more = (*r)->Next(row);
    EXPECT_EQ(more.status().code(), Code::kInvalid) << damaged;
  }
  // Format 3 names its archive key's version: read under that version, and refused (not
  // misread) without it.
  ArchiveKeys second;
  second.Add(2, std::string(32, 'k'));
  auto v3 = SegmentReader::Open(dir + "sealed-v3-key-2-three-entries.seg", Signer('f').public_key(), second);
  ASSERT_TRUE(v3.ok()) << v3.status().message();
  EXPECT_EQ((*v3)->archive_key_version(), 2u);
  EXPECT_EQ((*v3)->header().first, 4u);
  int read = 0;
  for (Result<bool> more = (*v3)->Next(row); more.ok() && *more; more = (*v3)->Next(row)) ++read;
  EXPECT_EQ(read, 3);
  auto other = SegmentReader::Open(dir + "sealed-v3-key-9-not-held.seg", Signer('f').public_key(), second);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->archive_key_version(), 9u);
  auto refused = (*other)->Next(row);
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("archive key version 9"), std::string::npos) << refused.status().message();
}

// A log of 40 entries, one recorded each second from T0; heads signed along the way.
class ArchiveTest : public ::testing::Test {
 protected:
  static constexpr Micros kT0 = 1'600'000'000'000'000;
  static constexpr Micros kSecond = 1'000'000;

  void SetUp() override {
    store_ = store::testing::OpenOrDie({.path = dir_.File("ehr.db")});
    ASSERT_TRUE(store_);
    publisher_ = std::make_unique<TreeHeadPublisher>(*store_, signer_, clock_);
    for (int i = 0; i < 40; ++i) {
      Append(i);
      if (i == 5 || i == 19 || i == 30) {
        ASSERT_TRUE(publisher_->Publish().ok());
      }
    }
    options_.min_leaves = 8;
    options_.max_leaves = 16;
    options_.retention = 100 * kSecond;
  }

  void Append(int i) {
    Event e;
    e.subtype = "read";
    e.action = "R";
    e.recorded = kT0 + i * kSecond;
    e.tenant = "default";
    e.user = "u" + std::to_string(i % 3);
    e.patient = i % 4 == 0 ? "erase-me-4711" : "p" + std::to_string(i % 4);
    const Encoded enc = Encode(e);
    store::AuditAppend a{e.tenant, e.recorded, e.action, e.user, e.patient, enc.core, enc.detail};
    ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) { return txn.AppendAudit(a).status(); }).ok());
  }

  // Archives what is older than entry `i`'s time.
  ArchiveReport ArchiveBefore(int i) {
    auto report = ArchiveOldEntries(*store_, archive_, signer_, kT0 + i * kSecond + options_.retention, options_);
    EXPECT_TRUE(report.ok()) << report.status().message();
    return report.ok() ? *report : ArchiveReport{};
  }

  // The archive key versions the recorded segment files name (0: plain).
  std::set<uint32_t> KeyVersionsOfFiles() {
    std::set<uint32_t> versions;
    auto segments = store_->AuditSegments();  // held: a range-for over *store_->AuditSegments() would dangle
    for (const store::AuditSegment& s : *segments) versions.insert(*SegmentKeyVersion(archive_ / s.file));
    return versions;
  }
  VerifyReport Verify() {
    auto report = VerifyLog(*store_, signer_.public_key(), archive_);
    EXPECT_TRUE(report.ok()) << report.status().message();
    return report.ok() ? *report : VerifyReport{};
  }

  static std::string All(const VerifyReport& r) {
    std::string out;
    for (const std::string& p : r.problems) out += p + "\n";
    return out;
  }

  TempDir dir_;
  std::filesystem::path archive_ = std::filesystem::path(dir_.path()) / "audit-archive";
  ManualClock clock_{kT0 + 3600 * kSecond};
  TreeSigner signer_ = Signer('k');
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TreeHeadPublisher> publisher_;
  ArchiveOptions options_;
};

TEST_F(ArchiveTest, OldEntriesMoveToSegmentFilesAndTheLogStillVerifies) {
  auto before = publisher_->Publish();
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(ArchiveBefore(3).archived.empty()) << "no segment of 8 is old enough";
  // Entries 0..29 are old: [0,16) then [16,24); [24,32) would hold newer ones, and a
  // segment smaller than 8 is not worth a file.
  const ArchiveReport report = ArchiveBefore(30);
  ASSERT_EQ(report.archived.size(), 2u);
  EXPECT_EQ(report.archived[0].first, 0u);
  EXPECT_EQ(report.archived[0].count, 16u);
  EXPECT_EQ(report.archived[1].first, 16u);
  EXPECT_EQ(report.archived[1].count, 8u);
  EXPECT_EQ(report.entries, 24u);
  for (const store::AuditSegment& s : report.archived) {
    EXPECT_TRUE(std::filesystem::exists(archive_ / s.file)) << s.file;
    EXPECT_EQ(Sha256(ReadFile(archive_ / s.file)), s.sha256);
  }
  EXPECT_TRUE(ArchiveBefore(30).archived.empty()) << "nothing twice";

  auto live = store_->AuditRange(0, 100);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 16u);
  EXPECT_EQ(live->front().index, 24u);
  EXPECT_EQ(*store_->AuditSize(), 40u);
  auto segments = store_->AuditSegments();
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(segments->size(), 2u);

  const VerifyReport verified = Verify();
  EXPECT_TRUE(verified.ok()) << All(verified);
  EXPECT_EQ(verified.entries, 40u);
  EXPECT_EQ(verified.archived, 24u);
  EXPECT_EQ(verified.heads, 4u) << "heads inside archived segments are checked too";
  ASSERT_EQ(verified.segments.size(), 2u);
  EXPECT_NE(verified.segments[0].find(": OK"), std::string::npos) << verified.segments[0];

  // Roots and proofs of later entries come from the subtrees the store kept: the log
  // grows on, a new head is signed, and it is consistent with the head before archiving.
  Append(40);
  auto after = publisher_->Publish();
  ASSERT_TRUE(after.ok()) << after.status().message();
  Status missing;
  const NodeAt nodes = StoredNodes(*store_, missing);
  for (uint64_t index : {24u, 31u, 39u, 40u}) {
    EXPECT_TRUE(
        VerifyInclusion(index, after->size, nodes(0, index), InclusionProof(index, after->size, nodes), after->root)
            .ok())
        << index;
  }
  EXPECT_TRUE(VerifyConsistency(before->size, after->size, before->root, after->root,
                                ConsistencyProof(before->size, after->size, nodes))
                  .ok());
  EXPECT_TRUE(missing.ok()) << missing.message();
  EXPECT_TRUE(Verify().ok());
}

TEST_F(ArchiveTest, AFileLeftByARunThatStoppedBeforeRecordingItIsWrittenAgain) {
  std::filesystem::create_directories(archive_);
  WriteFile(archive_ / SegmentFileName(0, 16), "left over");
  ASSERT_EQ(ArchiveBefore(30).archived.size(), 2u);
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << All(r);
}

TEST_F(ArchiveTest, ASegmentFileMissingAlteredOrSignedAgainWithAnotherKeyIsNamed) {
  const ArchiveReport report = ArchiveBefore(30);
  ASSERT_EQ(report.archived.size(), 2u);
  const std::filesystem::path first = archive_ / report.archived[0].file;
  const std::string bytes = ReadFile(first);

  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x20);
  WriteFile(first, flipped);
  VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 1u) << All(r) << "entries after it, and the heads, still verify";
  EXPECT_NE(r.problems[0].find(report.archived[0].file), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[0].find("does not match its signature"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.segments[0].find("FAILED"), std::string::npos);
  EXPECT_NE(r.segments[1].find(": OK"), std::string::npos);

  std::filesystem::remove(first);
  r = Verify();
  ASSERT_EQ(r.problems.size(), 1u) << All(r);
  EXPECT_NE(r.problems[0].find("is missing"), std::string::npos) << r.problems[0];

  // The same entries, one altered, in a file signed with another key.
  {
    auto writer = SegmentWriter::Create(first, SegmentHeader{0, 16, report.archived[0].subtree});
    ASSERT_TRUE(writer.ok());
    WriteFile(archive_ / "original", bytes);
    auto reader = SegmentReader::Open(archive_ / "original", signer_.public_key());
    ASSERT_TRUE(reader.ok());
    store::AuditRow row;
    while (*(*reader)->Next(row)) {
      if (row.index == 3) row.agent = "someone else";
      ASSERT_TRUE((*writer)->Add(row).ok());
    }
    ASSERT_TRUE((*writer)->Commit(Signer('x')).ok());
  }
  r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problems[0].find("signed by another key"), std::string::npos) << All(r);

  // The original file back: whole again.
  WriteFile(first, bytes);
  EXPECT_TRUE(Verify().ok());
}

// As `ehr serve` archives: sealed with the key store's archive key. Verification and
// erasure need it; without it verification stops rather than pass over the files.
TEST_F(ArchiveTest, SealedSegmentsVerifyAndEraseWithTheArchiveKey) {
  options_.keys = RandomBytes(32);
  ASSERT_EQ(ArchiveBefore(30).archived.size(), 2u);
  auto with_key = VerifyLog(*store_, signer_.public_key(), archive_, options_.keys);
  ASSERT_TRUE(with_key.ok()) << with_key.status().message();
  EXPECT_TRUE(with_key->ok()) << All(*with_key);
  EXPECT_EQ(VerifyLog(*store_, signer_.public_key(), archive_).status().code(), Code::kUnavailable);
  auto segments = store_->AuditSegments();
  ASSERT_TRUE(segments.ok() && !segments->empty());
  EXPECT_EQ(ReadFile(archive_ / segments->front().file).find("erase-me-4711"), std::string::npos);

  ASSERT_TRUE(store_->EraseAuditDetail("default", "erase-me-4711").ok());
  auto archived = EraseArchivedDetail(*store_, archive_, signer_, "default", "erase-me-4711", options_.keys);
  ASSERT_TRUE(archived.ok()) << archived.status().message();
  EXPECT_EQ(*archived, 6);
  auto after = VerifyLog(*store_, signer_.public_key(), archive_, options_.keys);
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_TRUE(after->ok()) << All(*after);
  EXPECT_EQ(after->erased, 10u);
  // The rewritten files are sealed too.
  auto rewritten = store_->AuditSegments();
  ASSERT_TRUE(rewritten.ok());
  for (const store::AuditSegment& s : *rewritten) {
    auto reader = SegmentReader::Open(archive_ / s.file, signer_.public_key());
    ASSERT_TRUE(reader.ok());
    store::AuditRow row;
    EXPECT_EQ((*reader)->Next(row).status().code(), Code::kUnavailable) << s.file;
  }
}

// Rotation of the archive key: new segments are sealed under the newest version (its number
// in the header), older files are sealed again under it (same entries, recorded digest
// changed, the log still verifies), and verification reads each file under its own version.
TEST_F(ArchiveTest, ARotatedArchiveKeySealsNewSegmentsAndOldOnesAgain) {
  ArchiveKeys first(RandomBytes(32));
  options_.keys = first;
  ASSERT_EQ(ArchiveBefore(20).archived.size(), 1u);
  EXPECT_EQ(KeyVersionsOfFiles(), (std::set<uint32_t>{1}));
  ArchiveKeys rotated = first;
  rotated.Add(2, RandomBytes(32));
  options_.keys = rotated;
  ASSERT_EQ(ArchiveBefore(30).archived.size(), 1u) << "the next segment";
  EXPECT_EQ(KeyVersionsOfFiles(), (std::set<uint32_t>{1, 2}));
  auto both = VerifyLog(*store_, signer_.public_key(), archive_, rotated);
  ASSERT_TRUE(both.ok()) << both.status().message();
  EXPECT_TRUE(both->ok()) << All(*both);
  EXPECT_EQ(VerifyLog(*store_, signer_.public_key(), archive_, first).status().code(), Code::kUnavailable)
      << "the newer file needs version 2";

  auto before = store_->AuditSegments();
  ASSERT_TRUE(before.ok());
  auto resealed = ResealArchivedSegments(*store_, archive_, signer_, rotated);
  ASSERT_TRUE(resealed.ok()) << resealed.status().message();
  EXPECT_EQ(*resealed, 1);
  EXPECT_EQ(*ResealArchivedSegments(*store_, archive_, signer_, rotated), 0) << "nothing left to do";
  EXPECT_EQ(KeyVersionsOfFiles(), (std::set<uint32_t>{2}));
  auto after = store_->AuditSegments();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->front().sha256, before->front().sha256) << "a new file, its digest recorded";
  ArchiveKeys only_new;
  only_new.Add(2, *rotated.Find(2));
  auto verified = VerifyLog(*store_, signer_.public_key(), archive_, only_new);
  ASSERT_TRUE(verified.ok()) << verified.status().message();
  EXPECT_TRUE(verified->ok()) << "version 1 is no longer needed: " << All(*verified);
  EXPECT_FALSE(std::filesystem::exists(archive_ / (after->front().file + ".next")));

  // A server's Archiver reads the keys again before each run (a rotation by another
  // process) and seals again what is under an older version.
  ArchiveKeys third = rotated;
  third.Add(3, RandomBytes(32));
  ArchiveOptions reloading = options_;
  reloading.load_keys = [&] { return Result<ArchiveKeys>(third); };
  Archiver archiver(*store_, archive_, signer_, clock_, reloading);
  ASSERT_TRUE(archiver.RunOnce().ok());
  EXPECT_EQ(KeyVersionsOfFiles(), (std::set<uint32_t>{3}));
}

TEST_F(ArchiveTest, ErasureRewritesTheSegmentsThatHoldThePatientAndTheLogStillVerifies) {
  ASSERT_EQ(ArchiveBefore(30).archived.size(), 2u);
  auto in_store = store_->EraseAuditDetail("default", "erase-me-4711");
  ASSERT_TRUE(in_store.ok());
  EXPECT_EQ(*in_store, 4) << "entries 24, 28, 32, 36";
  auto archived = EraseArchivedDetail(*store_, archive_, signer_, "default", "erase-me-4711");
  ASSERT_TRUE(archived.ok()) << archived.status().message();
  EXPECT_EQ(*archived, 6) << "entries 0, 4, ..., 20";
  auto again = EraseArchivedDetail(*store_, archive_, signer_, "default", "erase-me-4711");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);

  auto segments = store_->AuditSegments();
  ASSERT_TRUE(segments.ok());
  for (const store::AuditSegment& s : *segments) {
    auto reader = SegmentReader::Open(archive_ / s.file, signer_.public_key());
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    EXPECT_EQ((*reader)->sha256(), s.sha256) << "the new digest is recorded";
    store::AuditRow row;
    while (*(*reader)->Next(row)) {
      EXPECT_NE(row.patient, std::optional<std::string>("erase-me-4711"));
      if (row.detail) {
        EXPECT_EQ(row.detail->find("erase-me-4711"), std::string::npos);
      }
    }
  }
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << All(r);
  EXPECT_EQ(r.erased, 10u);
  for (const auto& e : std::filesystem::directory_iterator(archive_)) {
    if (e.path().filename() == ".lock") continue;  // the directory's lock (archive.h)
    EXPECT_EQ(e.path().extension(), ".seg") << "no temporary file is left: " << e.path();
  }
}

TEST_F(ArchiveTest, AnErasureInterruptedAfterRecordingTheNewDigestIsCompleted) {
  ASSERT_EQ(ArchiveBefore(30).archived.size(), 2u);
  auto segments = store_->AuditSegments();
  ASSERT_TRUE(segments.ok());
  const store::AuditSegment s = segments->front();
  const std::string old_bytes = ReadFile(archive_ / s.file);
  ASSERT_TRUE(EraseArchivedDetail(*store_, archive_, signer_, "default", "erase-me-4711").ok());
  // As if the process had stopped before its rename: the old file in place, the new one
  // beside it under .next, the new digest recorded.
  std::filesystem::rename(archive_ / s.file, archive_ / (s.file + ".next"));
  WriteFile(archive_ / s.file, old_bytes);
  VerifyReport r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problems[0].find("its digest differs"), std::string::npos) << All(r);
  ASSERT_TRUE(CompleteSegmentRewrites(*store_, archive_).ok());
  r = Verify();
  EXPECT_TRUE(r.ok()) << All(r);
  EXPECT_FALSE(std::filesystem::exists(archive_ / (s.file + ".next")));
}

TEST_F(ArchiveTest, TheArchiverRunsAtStartAndAStopEndsARunBetweenSegments) {
  std::atomic<bool> cancel = true;
  auto cancelled = ArchiveOldEntries(*store_, archive_, signer_, kT0 + 130 * kSecond, options_, &cancel);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->archived.empty());

  options_.retention = 0;
  clock_.Set(kT0 + 30 * kSecond);  // entries 0..29 are older than now
  Archiver archiver(*store_, archive_, signer_, clock_, options_);
  archiver.Start(3600 * kSecond);
  std::vector<store::AuditSegment> segments;
  for (int i = 0; i < 500 && segments.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto read = store_->AuditSegments();
    ASSERT_TRUE(read.ok());
    segments = *read;
  }
  archiver.Stop();
  EXPECT_EQ(segments.size(), 2u) << "the first run is at start";
  EXPECT_TRUE(Verify().ok());
}

}  // namespace
}  // namespace ehr::audit
