#include "search/normalize.h"

#include <string>

#include <gtest/gtest.h>

namespace ehr::search {
namespace {

TEST(NormalizeStringTest, FoldsCaseAndAccents) {
  EXPECT_EQ(NormalizeString("Müller"), "muller");
  EXPECT_EQ(NormalizeString("ÉLODIE"), "elodie");
  EXPECT_EQ(NormalizeString("straße"), "strasse");
  EXPECT_EQ(NormalizeString("STRASSE"), "strasse");
  EXPECT_EQ(NormalizeString("Ærøskøbing"), "ærøskøbing");  // Æ and ø are letters, not accented ones
  EXPECT_EQ(NormalizeString("Dvořák"), "dvorak");
  EXPECT_EQ(NormalizeString("Ἀθῆναι"), "αθηναι");
  EXPECT_EQ(NormalizeString("ΣΊΣΥΦΟΣ"), "σισυφοσ");  // case folding, not lower-casing: no final sigma
}

TEST(NormalizeStringTest, CompatibilityForms) {
  EXPECT_EQ(NormalizeString("ﬁle"), "file");             // ligature
  EXPECT_EQ(NormalizeString("ＡＢＣ１"), "abc1");          // full-width
  EXPECT_EQ(NormalizeString("ℌello"), "hello");           // decomposes to a capital
  EXPECT_EQ(NormalizeString("x²"), "x2");
  EXPECT_EQ(NormalizeString("e\xCC\x81"), "e");          // already decomposed é
  EXPECT_EQ(NormalizeString("so\xC2\xADphie"), "sophie");  // soft hyphen is ignorable
  EXPECT_EQ(NormalizeString("a\xE2\x80\x8B" "b"), "ab");   // zero-width space is ignorable
}

TEST(NormalizeStringTest, CollapsesWhitespace) {
  EXPECT_EQ(NormalizeString("  Jean\t\tPaul \n"), "jean paul");
  EXPECT_EQ(NormalizeString("Jean\xC2\xA0Paul"), "jean paul");         // no-break space
  EXPECT_EQ(NormalizeString("Jean\xE2\x80\x83\xE3\x80\x80Paul"), "jean paul");  // em and ideographic spaces
  EXPECT_EQ(NormalizeString("Jean\xE2\x80\xA8Paul"), "jean paul");     // line separator
  EXPECT_EQ(NormalizeString("Renée \t "), "renee");
  EXPECT_EQ(NormalizeString(std::string("a\0b", 3)), "a b");
  EXPECT_EQ(NormalizeString(""), "");
  EXPECT_EQ(NormalizeString(" \t\n"), "");
  EXPECT_EQ(NormalizeString("\xC2\xA0"), "");
}

TEST(NormalizeStringTest, AsciiFastPathAgreesWithUnicodePath) {
  // A trailing "é" sends the text through the code-point path; the ASCII prefix must come
  // out the same as it does alone.
  for (int c = 0; c < 0x80; ++c) {
    std::string ascii = std::string("A") + static_cast<char>(c) + "Z";
    EXPECT_EQ(NormalizeString(ascii + "\xC3\xA9"), NormalizeString(ascii) + "e") << "byte " << c;
  }
}

TEST(NormalizeStringTest, InvalidUtf8IsReplacedNotFatal) {
  EXPECT_EQ(NormalizeString("ab\xFF" "C"), "ab\xEF\xBF\xBD" "c");
  EXPECT_EQ(NormalizeString("\xC3"), "\xEF\xBF\xBD");          // truncated sequence
  EXPECT_EQ(NormalizeString("\xED\xA0\x80x"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");  // surrogate
  EXPECT_EQ(NormalizeString("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // > U+10FFFF
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  EXPECT_FALSE(NormalizeString(all_bytes).empty());
}

TEST(NormalizeStringTest, Idempotent) {
  for (const char* s : {"Müller-Lüdenscheidt", "  ÉLODIE  straße ", "ﬁ Ⅻ ℌ", "Ἀθῆναι"}) {
    std::string once = NormalizeString(s);
    EXPECT_EQ(NormalizeString(once), once) << s;
  }
}

}  // namespace
}  // namespace ehr::search
