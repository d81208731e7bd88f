// Retention of the audit log from outside the process: the real `ehr serve` writes entries
// (a patient read among them), `ehr audit archive` with a clock years ahead moves the old
// ones to a signed segment file, and `ehr audit verify` checks it: whole, then a byte
// flipped in the file, then the file gone, are named (exit 1); `ehr audit erase` of the
// patient rewrites the file without the patient, and the log verifies again. The file is
// sealed with the key store's archive key: neither the patient nor a gzip stream is in it;
// after `ehr keys rotate`, `ehr keys reencrypt` seals it again under the new archive key.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/ehr_process.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

std::pair<int, std::string> Audit(const std::string& args) { return RunEhr("audit " + args); }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A big-endian u32 of a file's bytes.
uint32_t U32At(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = at; i < at + 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

// The format version of a segment file and the archive key version its header names (0
// before format 3).
std::pair<uint32_t, uint32_t> FormatAndKey(const std::filesystem::path& segment) {
  const std::string bytes = ReadFile(segment);
  const uint32_t format = U32At(bytes, 8);
  return {format, format == 3 ? U32At(bytes, 12) : 0};
}

// Whether gzip reads the body of a segment file (segment_file.h: a 60-byte header, 64 in
// format 3, and a 72-byte signature around it): a plain file's body is the gzip stream of
// its entries, a sealed one's is not.
bool GzipReadsTheBody(const std::filesystem::path& segment) {
  const std::string bytes = ReadFile(segment);
  const size_t header = U32At(bytes, 8) == 3 ? 64 : 60;
  const std::filesystem::path body = segment.string() + ".body.gz";
  {
    std::ofstream out(body, std::ios::binary);
    out << bytes.substr(header, bytes.size() - header - 72);
  }
  auto [code, text] = RunCommand("gzip -dc " + body.string() + " > /dev/null 2>&1");
  std::filesystem::remove(body);
  return code == 0;
}

TEST(AuditArchiveCli, ArchivedSegmentsAreVerifiedAndErasureReachesThem) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string patient = "erase-me-4711";
  {
    EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "off", "--audit-head-seconds", "1"});
    ASSERT_NE(server.port, 0) << server.output;
    HttpClient c("127.0.0.1", server.port);
    const std::vector<std::pair<std::string, std::string>> json = {{"Content-Type", "application/fhir+json"}};
    ASSERT_EQ(c.Send("PUT", "/fhir/Patient/" + patient,
                     R"({"resourceType":"Patient","id":")" + patient + R"(","gender":"female"})", json)
                  .status,
              201);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(c.Get("/fhir/Patient/" + patient).status, 200);
    for (int i = 0; i < 30; ++i) ASSERT_EQ(c.Get("/fhir/Patient?gender=male").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a head is signed
    server.Stop(SIGTERM);
  }
  const std::filesystem::path archive = data + "/audit-archive";

  // Nothing is old enough yet.
  auto [none_code, none_out] = Audit("archive --data " + data + " --min-segment 16");
  ASSERT_EQ(none_code, 0) << none_out;
  EXPECT_NE(none_out.find("0 entries archived in 0 segments"), std::string::npos) << none_out;
  // Years later: the first 32 entries (41 or so were written) are one segment.
  auto [code, out] = Audit("archive --data " + data + " --min-segment 16 --now 2100-01-01T00:00:00Z");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("archived entries 0 to 31 in audit-00000000000000000000-32.seg"), std::string::npos) << out;
  const std::filesystem::path segment = archive / "audit-00000000000000000000-32.seg";
  // (from here on, `ehr audit export` adds its own entries after the archived ones)
  ASSERT_TRUE(std::filesystem::exists(segment));
  EXPECT_EQ(ReadFile(segment).find(patient), std::string::npos);
  EXPECT_FALSE(GzipReadsTheBody(segment)) << "sealed, not a plain gzip stream";

  auto [ok_code, ok_out] = Audit("verify --data " + data);
  EXPECT_EQ(ok_code, 0) << ok_out;

  // Export: the patient's entries as AuditEvents, archived ones (entry 0, the create, is in
  // the file) and stored ones alike, the export itself recorded (first) among them.
  // (RunCommand adds 2>&1: the subshell keeps the command's log lines out of its output)
  const std::string ehr = std::getenv("EHR_BINARY");
  auto [exported, export_out] = RunCommand("(" + ehr + " audit export --data " + data + " --patient " + patient + " 2>/dev/null)");
  ASSERT_EQ(exported, 0) << export_out;
  std::vector<std::string> lines;
  std::istringstream export_lines(export_out);
  for (std::string line; std::getline(export_lines, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 12u) << export_out.substr(0, 2000);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.rfind(R"({"resourceType":"AuditEvent")", 0), 0u) << line;
    EXPECT_NE(line.find(patient), std::string::npos) << line;
  }
  EXPECT_EQ(lines.front().find(R"("id":"0")"), lines.front().find("\"id\"")) << "entry 0, from the archived file: " << lines.front();
  EXPECT_NE(lines.back().find("audit-export"), std::string::npos) << lines.back();
  auto [window, window_out] = RunCommand("(" + ehr + " audit export --data " + data + " --from 2099-01-01T00:00:00Z 2>/dev/null)");
  EXPECT_EQ(window, 0);
  EXPECT_EQ(window_out, "") << "nothing recorded in that window";
  EXPECT_NE(ok_out.find("archived segment audit-00000000000000000000-32.seg (entries 0 to 31): OK"), std::string::npos)
      << ok_out;

  // A byte flipped in the file.
  const std::string bytes = ReadFile(segment);
  {
    std::string flipped = bytes;
    flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x01);
    std::ofstream(segment, std::ios::binary | std::ios::trunc) << flipped;
  }
  auto [flipped_code, flipped_out] = Audit("verify --data " + data);
  EXPECT_EQ(flipped_code, 1) << flipped_out;
  auto [flipped_export, flipped_export_out] = RunCommand("(" + ehr + " audit export --data " + data + " >/dev/null)");
  EXPECT_EQ(flipped_export, 1) << "an altered file is not exported";
  EXPECT_NE(flipped_export_out.find("does not match its signature"), std::string::npos) << flipped_export_out;
  EXPECT_NE(flipped_out.find("TAMPERED: archived segment audit-00000000000000000000-32.seg (entries 0 to 31): "
                             "audit-00000000000000000000-32.seg does not match its signature"),
            std::string::npos)
      << flipped_out;
  // The file gone.
  std::filesystem::remove(segment);
  auto [gone_code, gone_out] = Audit("verify --data " + data);
  EXPECT_EQ(gone_code, 1) << gone_out;
  EXPECT_NE(gone_out.find("audit-00000000000000000000-32.seg is missing"), std::string::npos) << gone_out;
  std::ofstream(segment, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(Audit("verify --data " + data).first, 0);

  // Erasure of the patient reaches the archived entries.
  auto [erase_code, erase_out] = Audit("erase --data " + data + " --patient " + patient);
  ASSERT_EQ(erase_code, 0) << erase_out;
  EXPECT_NE(erase_out.find("erased the personal part of 11 archived entries"), std::string::npos) << erase_out;
  EXPECT_FALSE(GzipReadsTheBody(segment)) << "rewritten sealed";
  auto [after_code, after_out] = Audit("verify --data " + data);
  EXPECT_EQ(after_code, 0) << after_out;
  // 11 archived, and the export's own entry, which named the patient.
  EXPECT_NE(after_out.find("12 erased on request"), std::string::npos) << after_out;
  // The erasure is itself in the log (by counts: it names no patient).
  auto [recorded, recorded_out] = RunCommand("sqlite3 " + data + "/ehr.db \"SELECT count(*) FROM audit_entry WHERE "
                                             "instr(core, '\\\"subtype\\\":\\\"audit-erase\\\"') > 0\"");
  EXPECT_EQ(recorded_out, "1\n") << recorded_out;

  // Rotation of the archive key: `ehr keys rotate` makes version 2, `ehr keys reencrypt`
  // seals the file again under it, and the log still verifies.
  EXPECT_EQ(FormatAndKey(segment), std::make_pair(3u, 1u));
  auto [rotated, rotate_out] = RunEhr("keys rotate --data " + data);
  ASSERT_EQ(rotated, 0) << rotate_out;
  EXPECT_NE(rotate_out.find("audit archive key version 2"), std::string::npos) << rotate_out;
  auto [resealed, reseal_out] = RunEhr("keys reencrypt --data " + data);
  ASSERT_EQ(resealed, 0) << reseal_out;
  EXPECT_NE(reseal_out.find("sealed 1 archived audit segment(s) again under archive key version 2"), std::string::npos)
      << reseal_out;
  EXPECT_EQ(FormatAndKey(segment), std::make_pair(3u, 2u));
  EXPECT_FALSE(GzipReadsTheBody(segment));
  EXPECT_EQ(ReadFile(segment).find(patient), std::string::npos);
  auto [rotated_code, rotated_out] = Audit("verify --data " + data);
  EXPECT_EQ(rotated_code, 0) << rotated_out;
  EXPECT_NE(rotated_out.find("archived segment audit-00000000000000000000-32.seg (entries 0 to 31): OK"),
            std::string::npos)
      << rotated_out;
}

}  // namespace
}  // namespace ehr::testing
