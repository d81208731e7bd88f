#include "audit/segment_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "audit/merkle.h"
#include "core/files.h"
#include "core/secrets.h"
#include "keys/aead.h"

namespace ehr::audit {
namespace {

constexpr std::string_view kMagic = "EHRAUDIT";
constexpr uint32_t kPlainVersion = 1;   // the body is the gzip stream itself
constexpr uint32_t kSealedVersion = 2;  // the gzip stream in sealed chunks under archive key 1 (segment_file.h)
constexpr uint32_t kKeyedVersion = 3;   // the same, the header naming the archive key's version
constexpr size_t kHeaderBytes = 8 + 4 + 8 + 8 + kHashBytes;  // formats 1 and 2
constexpr size_t kKeyedHeaderBytes = kHeaderBytes + 4;       // format 3
constexpr size_t kKeyIdBytes = 8;
constexpr size_t kTrailerBytes = kKeyIdBytes + crypto_sign_BYTES;
constexpr std::string_view kSignedPrefix = "ehr audit segment v1\n";
constexpr uint32_t kAbsent = 0xffffffff;
constexpr uint32_t kMaxField = 64u << 20;  // no column of an entry comes near this
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxSealedChunk = kChunk + keys::kSealOverhead;

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
uint64_t GetBE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
void PutField(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}
void PutOptional(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    PutField(out, *s);
  } else {
    PutU32(out, kAbsent);
  }
}

std::string HeaderBytes(const SegmentHeader& h, uint32_t key_version) {
  std::string out(kMagic);
  PutU32(out, key_version == 0 ? kPlainVersion : kKeyedVersion);
  if (key_version != 0) PutU32(out, key_version);
  PutU64(out, h.first);
  PutU64(out, h.count);
  out.append(h.subtree);
  return out;
}

// What a sealed chunk is bound to: its file's header, its place, and whether it is the last.
std::string ChunkAad(std::string_view header, uint64_t index, bool last) {
  std::string aad(header);
  PutU64(aad, index);
  aad.push_back(last ? '\1' : '\0');
  return aad;
}

std::string SignedMessage(const unsigned char digest[crypto_hash_sha256_BYTES]) {
  std::string m(kSignedPrefix);
  m.append(reinterpret_cast<const char*>(digest), crypto_hash_sha256_BYTES);
  return m;
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return Status::Unavailable(std::string("audit archive: cannot write a segment file: ") + strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

const std::string& ArchiveKeys::current() const {
  static const std::string kNone;
  return keys_.empty() ? kNone : keys_.rbegin()->second;
}

const std::string* ArchiveKeys::Find(uint32_t version) const {
  const auto it = keys_.find(version);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<uint32_t> SegmentKeyVersion(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT) return Status::NotFound(path.filename().string() + " is missing");
    return Status::Unavailable("cannot read " + path.string() + ": " + strerror(errno));
  }
  char header[16];
  const size_t n = std::fread(header, 1, sizeof header, file);
  std::fclose(file);
  if (n != sizeof header || std::string_view(header, kMagic.size()) != kMagic) {
    return Status::Invalid(path.filename().string() + " is not an audit segment file");
  }
  switch (GetBE(header + 8, 4)) {
    case kPlainVersion: return 0u;
    case kSealedVersion: return 1u;
    case kKeyedVersion: return static_cast<uint32_t>(GetBE(header + 12, 4));
    default: return Status::Invalid(path.filename().string() + " has an unknown format version");
  }
}

std::string SegmentFileName(uint64_t first, uint64_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "audit-%020llu-%llu.seg", static_cast<unsigned long long>(first),
                static_cast<unsigned long long>(count));
  return name;
}

// ---- writing

struct SegmentWriter::State {
  std::filesystem::path path, temp;
  SegmentHeader header;
  int fd = -1;
  z_stream z{};
  bool z_open = false;
  crypto_hash_sha256_state hash{};  // of everything written so far
  uint64_t added = 0;
  bool committed = false;
  std::string record;  // reused per entry
  std::string key;          // the archive key: sealed chunks (version 2); empty: plain (version 1)
  std::string header_bytes;
  std::string pending;      // compressed bytes not yet sealed into a chunk
  uint64_t chunks = 0;      // sealed so far

  Status Write(std::string_view bytes) {
    crypto_hash_sha256_update(&hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return WriteAll(fd, bytes);
  }
  Status SealChunk(std::string_view plain, bool last) {
    std::string chunk;
    PutU32(chunk, static_cast<uint32_t>(plain.size() + keys::kSealOverhead));
    keys::SealTo(key, plain, ChunkAad(header_bytes, chunks++, last), chunk);
    return Write(chunk);
  }
  // Compressed bytes, as they come out of zlib: written, or sealed a chunk at a time.
  Status Compressed(std::string_view bytes, bool last) {
    if (key.empty()) return Write(bytes);
    pending.append(bytes);
    // A full chunk is sealed only once more follows, so that the last chunk is never
    // empty (gzip's trailer is in it): the reader's end of the stream is the file's.
    size_t at = 0;
    for (; pending.size() - at > kChunk; at += kChunk) {
      EHR_RETURN_IF_ERROR(SealChunk(std::string_view(pending).substr(at, kChunk), false));
    }
    pending.erase(0, at);
    if (!last) return Status::Ok();
    EHR_RETURN_IF_ERROR(SealChunk(pending, true));
    pending.clear();
    return Status::Ok();
  }
};

SegmentWriter::SegmentWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

SegmentWriter::~SegmentWriter() {
  if (state_->z_open) deflateEnd(&state_->z);
  if (state_->fd >= 0) ::close(state_->fd);
  if (!state_->committed && !state_->temp.empty()) ::unlink(state_->temp.c_str());
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(std::filesystem::path path, SegmentHeader header,
                                                             const ArchiveKeys& keys) {
  const std::string& key = keys.current();
  if (header.subtree.size() != kHashBytes) return Status::Invalid("audit archive: a subtree hash is 32 bytes");
  if (!key.empty() && key.size() != keys::kKeyBytes) return Status::Invalid("audit archive: an archive key is 32 bytes");
  if (sodium_init() < 0) return Status::Internal("audit archive: libsodium cannot start");
  auto state = std::make_unique<State>();
  state->path = std::move(path);
  state->temp = state->path;
  state->temp += ".tmp-" + HexEncode(RandomBytes(6));  // concurrent writers never share one
  state->header = std::move(header);
  state->key = std::string(key);
  state->header_bytes = HeaderBytes(state->header, keys.current_version());
  state->fd = ::open(state->temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  std::unique_ptr<SegmentWriter> writer(new SegmentWriter(std::move(state)));
  State& s = *writer->state_;
  if (s.fd < 0) {
    s.temp.clear();
    return Status::Unavailable("audit archive: cannot create " + s.path.string() + ": " + strerror(errno));
  }
  crypto_hash_sha256_init(&s.hash);
  if (deflateInit2(&s.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("audit archive: zlib cannot start");
  }
  s.z_open = true;
  EHR_RETURN_IF_ERROR(s.Write(s.header_bytes));
  return writer;
}

Status SegmentWriter::Deflate(std::string_view bytes, bool finish) {
  State& s = *state_;
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  s.z.avail_in = static_cast<uInt>(bytes.size());
  char out[kChunk];
  while (true) {
    s.z.next_out = reinterpret_cast<Bytef*>(out);
    s.z.avail_out = kChunk;
    const int rc = deflate(&s.z, finish ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) return Status::Internal("audit archive: zlib failed");
    const bool done = finish ? rc == Z_STREAM_END : s.z.avail_out != 0;
    EHR_RETURN_IF_ERROR(s.Compressed(std::string_view(out, kChunk - s.z.avail_out), finish && done));
    if (done) return Status::Ok();
  }
}

Status SegmentWriter::Add(const store::AuditRow& row) {
  State& s = *state_;
  if (s.added == s.header.count) return Status::Invalid("audit archive: more entries than the segment holds");
  s.record.clear();
  PutField(s.record, row.tenant);
  PutU64(s.record, static_cast<uint64_t>(row.recorded));
  PutField(s.record, row.action);
  PutField(s.record, row.agent);
  PutOptional(s.record, row.patient);
  PutField(s.record, row.core);
  PutOptional(s.record, row.detail);
  PutField(s.record, row.leaf);
  ++s.added;
  return Deflate(s.record, false);
}

Result<std::string> SegmentWriter::Commit(const TreeSigner& signer, bool replace) {
  State& s = *state_;
  if (s.committed) return Status::Internal("audit archive: a segment file committed twice");
  if (s.added != s.header.count) {
    return Status::Invalid("audit archive: " + std::to_string(s.added) + " entries written of a segment of " +
                           std::to_string(s.header.count));
  }
  EHR_RETURN_IF_ERROR(Deflate({}, true));
  crypto_hash_sha256_state signed_part = s.hash;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&signed_part, digest);
  std::string trailer = Sha256(signer.public_key()).substr(0, kKeyIdBytes);
  trailer += signer.SignMessage(SignedMessage(digest));
  EHR_RETURN_IF_ERROR(s.Write(trailer));
  unsigned char whole[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&s.hash, whole);
  if (::fsync(s.fd) != 0) return Status::Unavailable("audit archive: cannot sync " + s.temp.string());
  ::close(s.fd);
  s.fd = -1;
  if (!replace) {
    // link() refuses an existing name where rename() would replace it.
    if (::link(s.temp.c_str(), s.path.c_str()) != 0) {
      if (errno == EEXIST) return Status::Conflict("audit archive: " + s.path.filename().string() + " exists");
      return Status::Unavailable("audit archive: cannot link a segment file to " + s.path.string());
    }
    ::unlink(s.temp.c_str());
  } else if (::rename(s.temp.c_str(), s.path.c_str()) != 0) {
    return Status::Unavailable("audit archive: cannot rename a segment file into " + s.path.string());
  }
  s.committed = true;
  EHR_RETURN_IF_ERROR(SyncDirectory(s.path.has_parent_path() ? s.path.parent_path() : "."));
  return std::string(reinterpret_cast<char*>(whole), sizeof whole);
}

// ---- reading

struct SegmentReader::State {
  std::filesystem::path path;
  FILE* file = nullptr;
  SegmentHeader header;
  std::string sha256, key_id;
  uint64_t body_left = 0;  // compressed bytes not yet read from the file
  z_stream z{};
  bool z_open = false;
  bool stream_end = false;
  char in[kChunk];
  char out[kChunk];
  size_t out_pos = 0, out_len = 0;
  uint64_t read = 0;  // entries returned
  bool sealed = false;       // version 2: the compressed stream comes in sealed chunks
  ArchiveKeys keys;          // the archive keys (formats 2 and 3)
  uint32_t key_version = 0;  // the one the file is sealed under; 0: plain
  std::string key;           // that key, when `keys` holds it
  std::string header_bytes;
  std::string plain;         // the compressed bytes of the chunk being inflated
  uint64_t chunks = 0;       // opened so far

  // The next compressed bytes into z's input: read as they are, or a chunk opened.
  Status Refill() {
    if (!sealed) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, body_left));
      if (std::fread(in, 1, want, file) != want) return Status::Unavailable("cannot read " + path.string());
      body_left -= want;
      z.next_in = reinterpret_cast<Bytef*>(in);
      z.avail_in = static_cast<uInt>(want);
      return Status::Ok();
    }
    if (key.size() != keys::kKeyBytes) {
      return Status::Unavailable(path.filename().string() + " is sealed under archive key version " +
                                 std::to_string(key_version) + ": reading it needs that key of the key store");
    }
    char length[4];
    if (body_left < 4 || std::fread(length, 1, 4, file) != 4) return Damaged("ends inside a sealed chunk (truncated)");
    const uint64_t n = GetBE(length, 4);
    if (n < keys::kSealOverhead || n > kMaxSealedChunk || n > body_left - 4) return Damaged("holds a damaged sealed chunk");
    std::string chunk(n, '\0');
    if (std::fread(chunk.data(), 1, n, file) != n) return Status::Unavailable("cannot read " + path.string());
    body_left -= 4 + n;
    auto opened = keys::Open(key, chunk, ChunkAad(header_bytes, chunks++, body_left == 0));
    if (!opened.ok()) return Damaged("holds a chunk that does not open with the archive key (another key, or altered)");
    plain = std::move(*opened);
    z.next_in = reinterpret_cast<Bytef*>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    return Status::Ok();
  }

  Status Damaged(const std::string& what) const { return Status::Invalid(path.filename().string() + " " + what); }
};

SegmentReader::SegmentReader(std::unique_ptr<State> state) : state_(std::move(state)) {}

SegmentReader::~SegmentReader() {
  if (state_->z_open) inflateEnd(&state_->z);
  if (state_->file != nullptr) std::fclose(state_->file);
}

const SegmentHeader& SegmentReader::header() const { return state_->header; }
const std::string& SegmentReader::sha256() const { return state_->sha256; }
const std::string& SegmentReader::key_id() const { return state_->key_id; }
uint32_t SegmentReader::archive_key_version() const { return state_->key_version; }

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(const std::filesystem::path& path,
                                                           std::string_view public_key, const ArchiveKeys& keys) {
  if (sodium_init() < 0) return Status::Internal("audit archive: libsodium cannot start");
  auto state = std::make_unique<State>();
  state->path = path;
  state->file = std::fopen(path.c_str(), "rb");
  std::unique_ptr<SegmentReader> reader(new SegmentReader(std::move(state)));
  State& s = *reader->state_;
  if (s.file == nullptr) {
    if (errno == ENOENT) return Status::NotFound(path.filename().string() + " is missing");
    return Status::Unavailable("cannot read " + path.string() + ": " + strerror(errno));
  }
  struct stat st {};
  if (::fstat(fileno(s.file), &st) != 0) return Status::Unavailable("cannot read " + path.string());
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes + kTrailerBytes) return s.Damaged("is too short to be a segment file (truncated)");

  // One pass for the digests: the signature is checked before anything is parsed.
  crypto_hash_sha256_state signed_part, whole;
  crypto_hash_sha256_init(&signed_part);
  std::string header, trailer;
  uint64_t at = 0;
  while (at < size) {
    const size_t n = std::fread(s.in, 1, kChunk, s.file);
    if (n == 0) return Status::Unavailable("cannot read " + path.string());
    const auto* bytes = reinterpret_cast<const unsigned char*>(s.in);
    const uint64_t signed_end = size - kTrailerBytes;
    const size_t signed_n = at >= signed_end ? 0 : static_cast<size_t>(std::min<uint64_t>(n, signed_end - at));
    crypto_hash_sha256_update(&signed_part, bytes, signed_n);
    if (header.size() < kKeyedHeaderBytes) header.append(s.in, std::min(n, kKeyedHeaderBytes - header.size()));
    trailer.append(s.in + signed_n, n - signed_n);
    at += n;
  }
  whole = signed_part;
  crypto_hash_sha256_update(&whole, reinterpret_cast<const unsigned char*>(trailer.data()), trailer.size());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&whole, digest);
  s.sha256.assign(reinterpret_cast<char*>(digest), sizeof digest);
  crypto_hash_sha256_final(&signed_part, digest);
  s.key_id = HexEncode(trailer.substr(0, kKeyIdBytes));
  if (!public_key.empty()) {
    if (public_key.size() != crypto_sign_PUBLICKEYBYTES) return Status::Invalid("a public key is 32 bytes");
    const std::string message = SignedMessage(digest);
    const bool valid =
        crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(trailer.data()) + kKeyIdBytes,
                                    reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                    reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
    if (!valid) {
      const std::string expected = HexEncode(Sha256(public_key).substr(0, kKeyIdBytes));
      if (s.key_id != expected) {
        return s.Damaged("is signed by another key (key id " + s.key_id + ", not " + expected + ")");
      }
      return s.Damaged("does not match its signature: it was altered after it was written");
    }
  }
  if (header.substr(0, kMagic.size()) != kMagic) return s.Damaged("is not an audit segment file");
  const uint64_t version = GetBE(header.data() + 8, 4);
  if (version != kPlainVersion && version != kSealedVersion && version != kKeyedVersion) {
    return s.Damaged("has the unknown format version " + std::to_string(version));
  }
  const size_t header_bytes = version == kKeyedVersion ? kKeyedHeaderBytes : kHeaderBytes;
  if (size < header_bytes + kTrailerBytes) return s.Damaged("is too short to be a segment file (truncated)");
  const char* fields = header.data() + header_bytes - (8 + 8 + kHashBytes);
  s.sealed = version != kPlainVersion;
  s.key_version = version == kKeyedVersion ? static_cast<uint32_t>(GetBE(header.data() + 12, 4)) : s.sealed ? 1 : 0;
  if (s.sealed && s.key_version == 0) return s.Damaged("names archive key version 0");
  s.header_bytes = header.substr(0, header_bytes);
  // Checked when the entries are read: the digests need no key.
  if (const std::string* key = keys.Find(s.key_version); key != nullptr) s.key = *key;
  s.header.first = GetBE(fields, 8);
  s.header.count = GetBE(fields + 8, 8);
  if (s.header.first > UINT64_MAX - s.header.count) return s.Damaged("names entries past the end of any log");
  s.header.subtree = std::string(fields + 16, kHashBytes);
  s.body_left = size - header_bytes - kTrailerBytes;
  if (std::fseek(s.file, static_cast<long>(header_bytes), SEEK_SET) != 0) {
    return Status::Unavailable("cannot read " + path.string());
  }
  if (inflateInit2(&s.z, 15 + 16) != Z_OK) return Status::Internal("audit archive: zlib cannot start");
  s.z_open = true;
  return reader;
}

Result<bool> SegmentReader::Read(char* out, size_t n) {
  State& s = *state_;
  size_t got = 0;
  while (got < n) {
    if (s.out_pos < s.out_len) {
      const size_t take = std::min(n - got, s.out_len - s.out_pos);
      std::memcpy(out + got, s.out + s.out_pos, take);
      s.out_pos += take;
      got += take;
      continue;
    }
    if (s.stream_end) {
      if (got == 0) return false;
      return s.Damaged("ends inside an entry (truncated)");
    }
    if (s.z.avail_in == 0 && s.body_left > 0) EHR_RETURN_IF_ERROR(s.Refill());
    s.z.next_out = reinterpret_cast<Bytef*>(s.out);
    s.z.avail_out = kChunk;
    const int rc = inflate(&s.z, Z_NO_FLUSH);
    s.out_pos = 0;
    s.out_len = kChunk - s.z.avail_out;
    if (rc == Z_STREAM_END) {
      s.stream_end = true;
      if (s.z.avail_in != 0 || s.body_left != 0) return s.Damaged("has bytes after its compressed entries");
    } else if (rc == Z_BUF_ERROR && s.z.avail_in == 0 && s.body_left == 0) {
      return s.Damaged("ends inside its compressed entries (truncated)");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return s.Damaged("holds damaged compressed entries");
    }
  }
  return true;
}

Result<bool> SegmentReader::Next(store::AuditRow& row) {
  State& s = *state_;
  char number[8];
  EHR_ASSIGN_OR_RETURN(bool more, Read(number, 4));
  if (!more) {
    if (s.read != s.header.count) {
      return s.Damaged("holds " + std::to_string(s.read) + " entries, not the " + std::to_string(s.header.count) +
                       " of its header");
    }
    return false;
  }
  if (s.read == s.header.count) return s.Damaged("holds more entries than its header says");
  bool first_field = true;
  auto field = [&](std::optional<std::string>& out) -> Status {
    if (!first_field) {
      EHR_ASSIGN_OR_RETURN(bool present, Read(number, 4));
      if (!present) return s.Damaged("ends inside an entry (truncated)");
    }
    first_field = false;
    const uint32_t length = static_cast<uint32_t>(GetBE(number, 4));
    if (length == kAbsent) {
      out.reset();
      return Status::Ok();
    }
    if (length > kMaxField) return s.Damaged("holds an entry too large to be one");
    // Grown as the bytes arrive: a length prefix alone never costs its size in memory.
    out.emplace();
    for (uint32_t got = 0; got < length;) {
      const uint32_t n = std::min<uint32_t>(length - got, static_cast<uint32_t>(kChunk));
      out->resize(got + n);
      EHR_ASSIGN_OR_RETURN(bool present, Read(out->data() + got, n));
      if (!present) return s.Damaged("ends inside an entry (truncated)");
      got += n;
    }
    return Status::Ok();
  };
  auto required = [&](std::string& out) -> Status {
    std::optional<std::string> value;
    EHR_RETURN_IF_ERROR(field(value));
    if (!value) return s.Damaged("lacks a column an entry must have");
    out = std::move(*value);
    return Status::Ok();
  };
  row = store::AuditRow{};
  row.index = s.header.first + s.read;
  EHR_RETURN_IF_ERROR(required(row.tenant));
  EHR_ASSIGN_OR_RETURN(bool present, Read(number, 8));
  if (!present) return s.Damaged("ends inside an entry (truncated)");
  row.recorded = static_cast<Micros>(GetBE(number, 8));
  EHR_RETURN_IF_ERROR(required(row.action));
  EHR_RETURN_IF_ERROR(required(row.agent));
  EHR_RETURN_IF_ERROR(field(row.patient));
  EHR_RETURN_IF_ERROR(required(row.core));
  EHR_RETURN_IF_ERROR(field(row.detail));
  EHR_RETURN_IF_ERROR(required(row.leaf));
  ++s.read;
  return true;
}

}  // namespace ehr::audit
