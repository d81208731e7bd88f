#include "io/resource_files.h"

#include <bzlib.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fhir/json/value.h"

namespace ehr::io {
namespace {

namespace fs = std::filesystem;

std::string SyntheaDir() {
  const char* shared = std::getenv("EHR_SHARED_DATA");
  return std::string(shared != nullptr ? shared : "../shared/data") + "/synthea";
}

std::string Bz2Compress(const std::string& text) {
  // Worst case per the libbz2 manual: 1% larger plus 600 bytes.
  std::string out(text.size() + text.size() / 100 + 600, '\0');
  unsigned int out_len = static_cast<unsigned int>(out.size());
  int rc = BZ2_bzBuffToBuffCompress(out.data(), &out_len, const_cast<char*>(text.data()),
                                    static_cast<unsigned int>(text.size()), /*blockSize100k=*/9, 0, 0);
  EXPECT_EQ(rc, BZ_OK);
  out.resize(out_len);
  return out;
}

class ResourceFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "ehr_io_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static Result<std::vector<std::string>> Documents(const std::string& file) {
    std::vector<std::string> docs;
    Status st = ForEachDocument(file, [&](std::string&& text) {
      docs.push_back(std::move(text));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return docs;
  }

  std::string dir_;
};

TEST_F(ResourceFilesTest, DecompressesASyntheaBundle) {
  auto files = ListResourceFiles({SyntheaDir()});
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_GE(files->size(), 100u);
  std::string smallest = *std::min_element(files->begin(), files->end(), [](const auto& a, const auto& b) {
    return FileSize(a) < FileSize(b);
  });
  auto docs = Documents(smallest);
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 1u);
  auto bundle = json::Parse(docs->front());
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  EXPECT_EQ(bundle->GetString("resourceType"), "Bundle");
  const json::Value* entry = bundle->Find("entry");
  ASSERT_TRUE(entry != nullptr && entry->is_array());
  EXPECT_FALSE(entry->as_array().empty());
  // Decompressed JSON is many times the compressed size.
  EXPECT_GT(docs->front().size(), 5 * FileSize(smallest));
}

TEST_F(ResourceFilesTest, ListsResourceFilesSortedPerDirectory) {
  Write("b.ndjson.bz2", "");
  Write("a.json", "{}");
  Write("c.txt", "");
  Write("z.ndjson", "");
  Write("y.json.gz", "");
  fs::create_directory(dir_ + "/sub.json");  // a directory is not a file, whatever its name
  Write("sub.json/inner.json", "{}");
  std::string extra = Write("x.json.bz2", "");

  auto files = ListResourceFiles({extra, dir_});
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_EQ(*files, (std::vector<std::string>{extra, dir_ + "/a.json", dir_ + "/b.ndjson.bz2",
                                              dir_ + "/x.json.bz2", dir_ + "/z.ndjson"}));

  auto missing = ListResourceFiles({dir_, dir_ + "/nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_ + "/nope"), std::string::npos);

  auto wrong = ListResourceFiles({dir_ + "/c.txt"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kInvalid);
}

const char kNdjson[] =
    "{\"resourceType\":\"Patient\",\"id\":\"1\"}\n"
    "\n"
    "{\"resourceType\":\"Patient\",\"id\":\"2\"}\r\n"
    "   \r\n"
    "{\"resourceType\":\"Patient\",\"id\":\"3\"}";  // no final newline

const std::vector<std::string> kNdjsonLines = {
    R"({"resourceType":"Patient","id":"1"})",
    R"({"resourceType":"Patient","id":"2"})",
    R"({"resourceType":"Patient","id":"3"})",
};

TEST_F(ResourceFilesTest, SplitsNdjsonIntoNonBlankLines) {
  auto docs = Documents(Write("p.ndjson", kNdjson));
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  EXPECT_EQ(*docs, kNdjsonLines);

  docs = Documents(Write("empty.ndjson", ""));
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  EXPECT_TRUE(docs->empty());
}

TEST_F(ResourceFilesTest, SplitsCompressedNdjson) {
  auto docs = Documents(Write("p.ndjson.bz2", Bz2Compress(kNdjson)));
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  EXPECT_EQ(*docs, kNdjsonLines);
}

TEST_F(ResourceFilesTest, LinesLongerThanAReadChunkSurvive) {
  // Reads go by 1 MiB chunks: lines of 1.5 MiB and many short ones cross every boundary.
  std::vector<std::string> lines;
  std::string text;
  for (int i = 0; i < 3; ++i) lines.push_back("{\"big\":\"" + std::string(1536 * 1024, static_cast<char>('a' + i)) + "\"}");
  for (int i = 0; i < 100000; ++i) lines.push_back("{\"n\":" + std::to_string(i) + "}");
  for (const std::string& line : lines) text += line + "\n";

  for (std::string name : {"long.ndjson", "long.ndjson.bz2"}) {
    SCOPED_TRACE(name);
    std::string bytes = fs::path(name).extension() == ".bz2" ? Bz2Compress(text) : text;
    auto docs = Documents(Write(name, bytes));
    ASSERT_TRUE(docs.ok()) << docs.status().message();
    EXPECT_TRUE(*docs == lines);
  }
}

TEST_F(ResourceFilesTest, ReadsConcatenatedBz2Streams) {
  std::string first = "{\"a\":1}\n{\"a\":2}\n";
  std::string second = "{\"a\":3}\n";
  auto docs = Documents(Write("multi.ndjson.bz2", Bz2Compress(first) + Bz2Compress(second)));
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  EXPECT_EQ(*docs, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"}));

  auto whole = Documents(Write("multi.json.bz2", Bz2Compress("{\"a\":") + Bz2Compress("[1]}")));
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_EQ(*whole, std::vector<std::string>{"{\"a\":[1]}"});
}

TEST_F(ResourceFilesTest, ReadsWholeJsonFiles) {
  std::string text = "{\n  \"resourceType\": \"Patient\"\n}\n\n";
  auto plain = Documents(Write("p.json", text));
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, std::vector<std::string>{text});
  auto compressed = Documents(Write("p.json.bz2", Bz2Compress(text)));
  ASSERT_TRUE(compressed.ok()) << compressed.status().message();
  EXPECT_EQ(*compressed, std::vector<std::string>{text});
}

void ExpectBz2Error(const Result<std::vector<std::string>>& docs, const std::string& file, const std::string& why) {
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.status().code(), Code::kInvalid);
  EXPECT_NE(docs.status().message().find(file), std::string::npos) << docs.status().message();
  EXPECT_NE(docs.status().message().find(why), std::string::npos) << docs.status().message();
}

TEST_F(ResourceFilesTest, CorruptBz2IsAnErrorNamingTheFile) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "{\"resourceType\":\"Observation\",\"id\":\"" + std::to_string(i) + "\"}\n";
  std::string good = Bz2Compress(text);

  std::string flipped = good;
  for (size_t i = good.size() / 2; i < good.size() / 2 + 8; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  std::string path = Write("flipped.ndjson.bz2", flipped);
  ExpectBz2Error(Documents(path), path, "corrupt data");

  path = Write("truncated.json.bz2", good.substr(0, good.size() / 2));
  ExpectBz2Error(Documents(path), path, "truncated");

  path = Write("plain.json.bz2", text);
  ExpectBz2Error(Documents(path), path, "not bz2 data");

  path = Write("empty.json.bz2", "");
  ExpectBz2Error(Documents(path), path, "empty");

  path = Write("trailing.ndjson.bz2", good + "garbage after the stream");
  ExpectBz2Error(Documents(path), path, "not bz2 data in bz2 stream 2");
}

TEST_F(ResourceFilesTest, UnreadableFilesAreErrors) {
  fs::create_directory(dir_ + "/dir.json");
  auto docs = Documents(dir_ + "/dir.json");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.status().message().find(dir_ + "/dir.json"), std::string::npos) << docs.status().message();

  docs = Documents(dir_ + "/missing.ndjson");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.status().code(), Code::kNotFound);

  docs = Documents(Write("notes.txt", "{}"));
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.status().code(), Code::kInvalid);
}

TEST_F(ResourceFilesTest, CallbackErrorStopsAndIsReturnedUnchanged) {
  std::string path = Write("p.ndjson", kNdjson);
  int calls = 0;
  Status st = ForEachDocument(path, [&](std::string&&) {
    ++calls;
    return calls == 2 ? Status::Conflict("stop here") : Status::Ok();
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.message(), "stop here");
}

TEST_F(ResourceFilesTest, FileSizeIsTheStoredSize) {
  EXPECT_EQ(FileSize(Write("five.json", "12345")), 5u);
  EXPECT_EQ(FileSize(dir_ + "/missing.json"), 0u);
}

// Decompresses every Synthea file and reports the throughput (for the record, not asserted).
TEST_F(ResourceFilesTest, DecompressesAllSyntheaFiles) {
  auto files = ListResourceFiles({SyntheaDir()});
  ASSERT_TRUE(files.ok()) << files.status().message();
  uint64_t compressed = 0, decompressed = 0;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& file : *files) {
    compressed += FileSize(file);
    Status st = ForEachDocument(file, [&](std::string&& text) {
      decompressed += text.size();
      EXPECT_EQ(text.substr(0, 1), "{") << file;
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.message();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(decompressed, 100u * 1000 * 1000);  // the README says 206 MB of JSON
  std::printf("bz2: %zu files, %.1f MB -> %.1f MB in %.2f s: %.1f MB/s of JSON out, %.1f MB/s in\n",
              files->size(), compressed / 1e6, decompressed / 1e6, seconds, decompressed / 1e6 / seconds,
              compressed / 1e6 / seconds);
  RecordProperty("decompressed_mb_per_s", static_cast<int>(decompressed / 1e6 / seconds));
}

}  // namespace
}  // namespace ehr::io
