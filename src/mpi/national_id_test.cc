#include "mpi/national_id.h"

#include <gtest/gtest.h>

namespace ehr::mpi {
namespace {

std::string Valid(NationalIdKind kind, std::string_view value) {
  Result<std::string> r = NormalizeNationalId(kind, value);
  EXPECT_TRUE(r.ok()) << value << ": " << r.status().message();
  return r.ok() ? *r : "";
}

void Invalid(NationalIdKind kind, std::string_view value, std::string_view says) {
  Result<std::string> r = NormalizeNationalId(kind, value);
  ASSERT_FALSE(r.ok()) << value << " was accepted";
  EXPECT_EQ(r.status().code(), Code::kInvalid) << value;
  EXPECT_NE(r.status().message().find(says), std::string::npos) << value << ": " << r.status().message();
}

TEST(NationalId, NhsNumber) {
  EXPECT_EQ(Valid(NationalIdKind::kNhsNumber, "9434765919"), "9434765919");
  EXPECT_EQ(Valid(NationalIdKind::kNhsNumber, "943 476 5919"), "9434765919");
  EXPECT_EQ(Valid(NationalIdKind::kNhsNumber, "401-023-2137"), "4010232137");
  Invalid(NationalIdKind::kNhsNumber, "9434765918", "check digit");
  Invalid(NationalIdKind::kNhsNumber, "4010232138", "check digit");
  Invalid(NationalIdKind::kNhsNumber, "1234567890", "would be 10");
  Invalid(NationalIdKind::kNhsNumber, "943476591", "10 digits");
  Invalid(NationalIdKind::kNhsNumber, "94347659A9", "10 digits");
  Invalid(NationalIdKind::kNhsNumber, "", "10 digits");
  EXPECT_EQ(NhsCheckDigit("943476591"), 9);
  EXPECT_EQ(NhsCheckDigit("123456789"), std::nullopt);
  EXPECT_EQ(NhsCheckDigit("12345678"), std::nullopt);
}

TEST(NationalId, Kvnr) {
  EXPECT_EQ(Valid(NationalIdKind::kKvnr, "A123456780"), "A123456780");
  EXPECT_EQ(Valid(NationalIdKind::kKvnr, "a 123 456 780"), "A123456780");
  Invalid(NationalIdKind::kKvnr, "A123456781", "check digit");
  Invalid(NationalIdKind::kKvnr, "B123456780", "check digit");
  Invalid(NationalIdKind::kKvnr, "1123456780", "a letter and 9 digits");
  Invalid(NationalIdKind::kKvnr, "A12345678", "a letter and 9 digits");
  Invalid(NationalIdKind::kKvnr, "\xc3\x84" "12345678", "a letter and 9 digits");
  EXPECT_EQ(KvnrCheckDigit('A', "12345678"), 0);
  // Z = 26: the letter's two digits both count.
  EXPECT_EQ(KvnrCheckDigit('Z', "00000000"), (2 * 1 + 6 * 2 / 10 + 6 * 2 % 10) % 10);
}

TEST(NationalId, Nir) {
  EXPECT_EQ(Valid(NationalIdKind::kNir, "1 84 12 76 451 089 46"), "184127645108946");
  EXPECT_EQ(Valid(NationalIdKind::kNir, "269029934173285"), "269029934173285");
  EXPECT_EQ(Valid(NationalIdKind::kNir, "185022A00123484"), "185022A00123484") << "Corsica: 2A counts as 19";
  EXPECT_EQ(Valid(NationalIdKind::kNir, "185022b00123414"), "185022B00123414") << "2B counts as 18";
  Invalid(NationalIdKind::kNir, "184127645108947", "key");
  Invalid(NationalIdKind::kNir, "184127645108936", "key");
  Invalid(NationalIdKind::kNir, "185022A00123414", "key");  // 2B's key on 2A
  Invalid(NationalIdKind::kNir, "584127645108946", "first digit");
  Invalid(NationalIdKind::kNir, "184137645108946", "month");
  Invalid(NationalIdKind::kNir, "18412764510894", "13 characters");
  Invalid(NationalIdKind::kNir, "18412X645108946", "digits");
  EXPECT_EQ(NirKey("1841276451089"), 46);
  EXPECT_EQ(NirKey("185022A001234"), 84);
}

TEST(NationalId, Ssn) {
  EXPECT_EQ(Valid(NationalIdKind::kSsn, "123-45-6789"), "123456789");
  Invalid(NationalIdKind::kSsn, "000-12-3456", "area");
  Invalid(NationalIdKind::kSsn, "666-12-3456", "area");
  Invalid(NationalIdKind::kSsn, "912-12-3456", "area");
  Invalid(NationalIdKind::kSsn, "123-00-4567", "group");
  Invalid(NationalIdKind::kSsn, "123-45-0000", "serial");
  Invalid(NationalIdKind::kSsn, "12-345-678", "9 digits");
}

TEST(NationalId, SystemsAndLimits) {
  for (NationalIdKind k : {NationalIdKind::kNhsNumber, NationalIdKind::kKvnr, NationalIdKind::kNir, NationalIdKind::kSsn}) {
    EXPECT_EQ(KindOfSystem(SystemOf(k)), k);
  }
  EXPECT_EQ(KindOfSystem("https://fhir.nhs.uk/Id/nhs-number"), NationalIdKind::kNhsNumber);
  EXPECT_EQ(KindOfSystem("urn:oid:1.2.250.1.213.1.4.8"), NationalIdKind::kNir);
  EXPECT_EQ(KindOfSystem("urn:mrn"), std::nullopt);
  Invalid(NationalIdKind::kNhsNumber, std::string(65, '9'), "at most 64");
}

}  // namespace
}  // namespace ehr::mpi
