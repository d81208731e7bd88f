// The words of full text (_text, _content) on PostgreSQL, made the way SQLite's FTS5
// tokenizer (unicode61, remove_diacritics 2) makes them: runs of letters, digits and
// private-use characters, case-folded, Latin letters without diacritics. (FTS5's tables
// are of Unicode 6.1, utf8proc's newer: characters assigned since may differ.) PostgreSQL's own parser is not
// used: it knows no letters beyond ASCII in a C-locale database, splits URLs, e-mail
// addresses and hyphenated words into overlapping tokens, and drops positions past 16,383,
// so phrases could not be matched as SQLite matches them. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ehr::store::pg {

// The words of `text`, each followed by one space ("care plan for " for "Care plan, for"):
// the form text_index keeps (queries.cc) and phrases are looked for in (search_clauses.cc).
std::string TextWords(std::string_view text);

// The words of `text` one by one.
std::vector<std::string> SplitWords(std::string_view text);

// A word as it is numbered: its first kMaxLexemeChars characters (a cut made when words
// were btree entries, of at most about 2,700 bytes, kept so that numbers stay the same).
inline constexpr size_t kMaxLexemeChars = 200;
std::string Lexeme(std::string_view word);

// What text_index keeps of a word (schema.cc, migration 8): a number naming the resource
// type, the field ('n' narrative, 'c' content) and the lexeme, the first 8 bytes of the
// SHA-256 of "type \x1f field \x1f lexeme" read as a big-endian signed integer. Integers
// make the array and its index small and cheap to write; two words with one number only
// cost a search a candidate that the phrase check drops.
int64_t WordHash(std::string_view type, char field, std::string_view lexeme);
// The same in SQL, over three text expressions (schema.cc's migration 6).
std::string WordHashSql(std::string_view type, std::string_view field, std::string_view lexeme);

}  // namespace ehr::store::pg
