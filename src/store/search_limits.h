// The bounds of a search plan, the same for every backend, so that a query too large for
// one is too large for all (kInvalid). They keep generated SQL far from SQLite's limits
// (expression depth 1000, 500 compound terms, 32766 variables) and a search's work bounded.
#pragma once

#include <cstddef>

namespace ehr::store::search_limits {

constexpr size_t kMaxClauses = 40;  // all clauses, nested chain and _has clauses included
constexpr size_t kMaxValues = 100;  // OR-ed values of one clause
// Token clauses (value-set expansions) may list more system|code pairs: past
// kArmsBeforeList of them they are one arm.
constexpr size_t kMaxListedValues = 1000;
constexpr size_t kArmsBeforeList = 16;
constexpr size_t kMaxTotalValues = 400;  // values of all clauses together (listed pairs count as one)
constexpr int kMaxChainDepth = 4;        // nested chain / _has levels
constexpr size_t kMaxSortKeys = 5;
constexpr size_t kMaxTypes = 256;
constexpr size_t kMaxIncludes = 16;
constexpr int kMaxIncludeDepth = 4;    // rounds of :iterate
constexpr size_t kMaxIncluded = 5000;  // included resources on one page (a chart of one patient fits)
constexpr int kMaxCount = 1000;        // matches on one page (larger counts are reduced)
constexpr size_t kMaxParams = 8000;
constexpr size_t kMaxCursorBytes = 16384;
// Parameter keys one composite value may stand for (a code in many systems, a system's codes).
constexpr size_t kMaxCompositeKeys = 500;

}  // namespace ehr::store::search_limits
