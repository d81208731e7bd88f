// Archived audit segment files (audit/segment_file.h) as whoever can write the archive
// directory may leave them: `ehr audit verify` and `ehr audit erase` read them back. Files
// of formats 2 and 3 are opened with the test archive keys (32 'k' bytes; the sealed seeds are made
// by make_sealed_seeds.py). Each input is read three ways, every entry to the end or the
// first error:
//   1. as the file, with the test public key (as verify does): refused unless signed by it;
//   2. as the file, with no key (the signature not checked), so that the header and the
//      gzip body are parsed whatever the trailer says;
//   3. as the decompressed entries themselves, framed by this target as a segment that
//      claims 2^60 entries, gzip-compressed and signed with the test key, so that the
//      entry parser is reached through the checked-signature path too.
// Nothing may crash, hang or allocate out of proportion to the input; every refusal is
// kInvalid; entries come numbered from the header's first; a read that ends cleanly has
// exactly the header's count. A file read whole is written again by SegmentWriter and must
// read back the same. Temporary files live under /tmp, one set per process.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/segment_file.h"
#include "audit/tree_head.h"
#include "core/secrets.h"
#include "fuzz_check.h"

namespace {

using ehr::Code;
using ehr::Result;
using ehr::audit::SegmentHeader;
using ehr::audit::SegmentReader;
using ehr::audit::SegmentWriter;
using ehr::audit::TreeSigner;
using ehr::store::AuditRow;

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_audit_segment", what); }

// The signer of the seed corpus: a seed of 32 'f' bytes.
const TreeSigner& TestSigner() {
  static const TreeSigner signer = [] {
    Result<TreeSigner> s = TreeSigner::FromSeed(std::string(32, 'f'));
    Check(s.ok(), "the test signer must start");
    return *s;
  }();
  return signer;
}

// The archive keys of the sealed seeds: 32 'k' bytes, as version 1 (format 2 seeds) and 2
// (format 3 seeds name it).
const ehr::audit::ArchiveKeys& TestArchiveKeys() {
  static const ehr::audit::ArchiveKeys keys = [] {
    ehr::audit::ArchiveKeys k;
    k.Add(1, std::string(32, 'k'));
    k.Add(2, std::string(32, 'k'));
    return k;
  }();
  return keys;
}

// A directory made once per process (mkdtemp), with the file each input is written to, and
// removed at exit.
class Scratch {
 public:
  Scratch() {
    char pattern[] = "/tmp/fuzz_audit_segment.XXXXXX";
    Check(::mkdtemp(pattern) != nullptr, "cannot make a temporary directory");
    dir_ = pattern;
    input_ = dir_ / "input.seg";
    fd_ = ::open(input_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    Check(fd_ >= 0, "cannot create the temporary input file");
  }
  ~Scratch() {
    ::close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& dir() const { return dir_; }

  // Replaces the input file's bytes with `bytes`; returns its path.
  const std::filesystem::path& Write(std::string_view bytes) {
    Check(::ftruncate(fd_, 0) == 0, "cannot truncate the temporary input file");
    size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + at, bytes.size() - at, static_cast<off_t>(at));
      Check(n > 0, "cannot write the temporary input file");
      at += static_cast<size_t>(n);
    }
    return input_;
  }

 private:
  std::filesystem::path dir_, input_;
  int fd_ = -1;
};

Scratch& TheScratch() {
  static Scratch scratch;
  return scratch;
}

bool SameRow(const AuditRow& a, const AuditRow& b) {
  return a.index == b.index && a.tenant == b.tenant && a.recorded == b.recorded && a.action == b.action &&
         a.agent == b.agent && a.patient == b.patient && a.core == b.core && a.detail == b.detail && a.leaf == b.leaf;
}

struct Outcome {
  bool opened = false;
  bool complete = false;  // every entry read and as many as the header says
  SegmentHeader header;
  std::vector<AuditRow> rows;  // kept only while few
};

constexpr size_t kRowsKept = 64;

// Opens `path` and reads every entry, checking what holds whatever the bytes are.
Outcome ReadAll(const std::filesystem::path& path, std::string_view public_key, std::string_view bytes) {
  Outcome outcome;
  Result<std::unique_ptr<SegmentReader>> reader = SegmentReader::Open(path, public_key, TestArchiveKeys());
  if (!reader.ok()) {
    Check(reader.status().code() == Code::kInvalid, "a segment file that cannot be opened must be kInvalid");
    return outcome;
  }
  outcome.opened = true;
  SegmentReader& r = **reader;
  outcome.header = r.header();
  Check(r.header().subtree.size() == 32, "the subtree hash of an opened segment has 32 bytes");
  Check(r.sha256() == ehr::Sha256(bytes), "sha256() must be the digest of the whole file");
  Check(r.key_id().size() == 16, "the key id is 8 bytes in hex");
  uint64_t read = 0;
  AuditRow row;
  while (true) {
    Result<bool> more = r.Next(row);
    if (!more.ok()) {
      // kUnavailable: sealed under an archive key version the reader does not hold.
      const bool keyless = more.status().code() == Code::kUnavailable && r.archive_key_version() != 0 &&
                           TestArchiveKeys().Find(r.archive_key_version()) == nullptr;
      Check(more.status().code() == Code::kInvalid || keyless,
            "a damaged segment body must be kInvalid (kUnavailable only for a key not held)");
      return outcome;
    }
    if (!*more) break;
    Check(read < r.header().count, "never more entries than the header says");
    Check(row.index == r.header().first + read, "entries are numbered from the header's first");
    if (outcome.rows.size() < kRowsKept) outcome.rows.push_back(row);
    ++read;
  }
  Check(read == r.header().count, "a body that ends cleanly holds the header's count of entries");
  outcome.complete = true;
  return outcome;
}

// A segment read whole is written again by the writer, plain and sealed, and reads back the same.
void CheckRewrite(const Outcome& outcome, const ehr::audit::ArchiveKeys& keys) {
  if (outcome.header.count != outcome.rows.size()) return;  // too many to keep
  const std::filesystem::path path = TheScratch().dir() / "rewritten.seg";
  Result<std::unique_ptr<SegmentWriter>> writer = SegmentWriter::Create(path, outcome.header, keys);
  Check(writer.ok(), "the writer must start");
  for (const AuditRow& row : outcome.rows) Check((*writer)->Add(row).ok(), "the writer must take a row it read");
  Result<std::string> digest = (*writer)->Commit(TestSigner());
  Check(digest.ok(), "the writer must commit");
  Result<std::unique_ptr<SegmentReader>> reader = SegmentReader::Open(path, TestSigner().public_key(), keys);
  Check(reader.ok(), "a rewritten segment must open with its signer's key");
  Check((*reader)->sha256() == *digest, "the digest Commit returns is the file's");
  AuditRow row;
  for (const AuditRow& expected : outcome.rows) {
    Result<bool> more = (*reader)->Next(row);
    Check(more.ok() && *more && SameRow(row, expected), "a rewritten segment reads back the same entries");
  }
  Result<bool> end = (*reader)->Next(row);
  Check(end.ok() && !*end, "a rewritten segment ends after its entries");
}

void PutBE(std::string& out, uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string Gzip(std::string_view bytes) {
  z_stream z{};
  Check(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "zlib must start");
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  Check(deflate(&z, Z_FINISH) == Z_STREAM_END, "zlib must compress within its bound");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// `entries` (the decompressed body) as a segment file signed with the test key, its header
// claiming 2^60 entries from 7.
std::string SignedSegmentOf(std::string_view entries) {
  std::string file = "EHRAUDIT";
  PutBE(file, 1, 4);
  PutBE(file, 7, 8);
  PutBE(file, uint64_t{1} << 60, 8);
  file.append(32, '\x11');
  file += Gzip(entries);
  const std::string signed_message = "ehr audit segment v1\n" + ehr::Sha256(file);
  file += ehr::Sha256(TestSigner().public_key()).substr(0, 8);
  file += TestSigner().SignMessage(signed_message);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Scratch& scratch = TheScratch();
  const std::filesystem::path& path = scratch.Write(input);

  const Outcome keyed = ReadAll(path, TestSigner().public_key(), input);
  const Outcome unkeyed = ReadAll(path, {}, input);
  if (keyed.opened) {
    Check(unkeyed.opened && unkeyed.complete == keyed.complete && unkeyed.rows.size() == keyed.rows.size(),
          "checking the signature must not change what a signed file reads as");
    for (size_t i = 0; i < keyed.rows.size(); ++i) {
      Check(SameRow(keyed.rows[i], unkeyed.rows[i]), "checking the signature must not change the entries");
    }
  }
  if (unkeyed.complete) {
    CheckRewrite(unkeyed, {});
    CheckRewrite(unkeyed, TestArchiveKeys());
  }

  const std::string framed = SignedSegmentOf(input);
  const Outcome entries = ReadAll(scratch.Write(framed), TestSigner().public_key(), framed);
  Check(entries.opened, "a segment signed with the test key must open with it");
  Check(!entries.complete, "no body holds the 2^60 entries its header claims");
  return 0;
}
