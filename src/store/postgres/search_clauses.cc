// The clauses of a store::SearchQuery as SQL sets (Compiled, search_internal.h), as the
// SQLite backend compiles them (store/sqlite/search_clauses.cc): each OR-ed value one
// UNION ALL arm over one index table, restricted to the tenant, the types and the
// parameter, which lead every index of those tables. Composites read their second
// component's table under the names that hold their token; _text and _content read
// text_index; chains and _has nest sets; _list reads a List's reference rows.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/postgres/search_internal.h"
#include "store/postgres/text_words.h"

namespace ehr::store::pg::internal {
namespace {

Micros Clamp(double d) {
  if (d >= 9.2e18) return std::numeric_limits<Micros>::max();
  if (d <= -9.2e18) return std::numeric_limits<Micros>::min();
  return static_cast<Micros>(d);
}

}  // namespace

Result<const std::vector<std::string>*> PgSearch::TenantTypes() {
  if (!tenant_types_) {
    // A loose scan of resource_live: one seek per type instead of reading every resource.
    EHR_ASSIGN_OR_RETURN(
        Rows rows,
        c_.Run("WITH RECURSIVE t(type) AS ("
               "SELECT min(type) FROM resource_version WHERE tenant = $1::text AND is_current AND NOT deleted "
               "UNION ALL SELECT (SELECT min(v.type) FROM resource_version v WHERE v.tenant = $1::text "
               "AND v.type > t.type AND v.is_current AND NOT v.deleted) FROM t WHERE t.type IS NOT NULL) "
               "SELECT type FROM t WHERE type IS NOT NULL LIMIT $2::bigint",
               {q_.tenant, Param::Int(static_cast<int64_t>(kMaxTypes))}));
    std::vector<std::string> types;
    for (int i = 0; i < rows.size(); ++i) types.push_back(rows.String(i, 0));
    tenant_types_ = std::move(types);
  }
  return &*tenant_types_;
}

std::string PgSearch::DateCondition(Prefix p, const std::string& low, const std::string& high, Micros vl, Micros vh) {
  // Row [low, high] against value [vl, vh], both inclusive (R4 search 3.1.1.4).
  const std::string bl = sql_.Int(vl), bh = sql_.Int(vh);
  const std::string eq = "(" + low + " >= " + bl + " AND " + high + " <= " + bh + ")";
  switch (p) {
    case Prefix::kEq:
      return low + " <= " + bh + " AND " + eq;
    case Prefix::kNe:
      return "NOT " + eq;
    case Prefix::kGt:
      return high + " > " + bh;
    case Prefix::kLt:
      return low + " < " + bl;
    case Prefix::kGe:
      return high + " >= " + bl + " AND (" + high + " > " + bh + " OR " + eq + ")";
    case Prefix::kLe:
      return low + " <= " + bh + " AND (" + low + " < " + bl + " OR " + eq + ")";
    case Prefix::kSa:
      return low + " > " + bh;
    case Prefix::kEb:
      return high + " < " + bl;
    case Prefix::kAp: {
      // Overlaps the value widened on each side by 10% of its distance to now.
      const Micros al = Clamp(static_cast<double>(vl) - std::fabs(static_cast<double>(now_) - vl) / 10);
      const Micros ah = Clamp(static_cast<double>(vh) + std::fabs(static_cast<double>(now_) - vh) / 10);
      return low + " <= " + sql_.Int(ah) + " AND " + high + " >= " + sql_.Int(al);
    }
  }
  return "false";
}

std::string PgSearch::NumberCondition(Prefix p, const std::string& col, double value, double low, double high) {
  // A row is a point; the value is [low, high) from its precision.
  switch (p) {
    case Prefix::kEq:
      return col + " >= " + sql_.Double(low) + " AND " + col + " < " + sql_.Double(high);
    case Prefix::kNe:
      return "(" + col + " < " + sql_.Double(low) + " OR " + col + " >= " + sql_.Double(high) + ")";
    case Prefix::kGt:
      return col + " > " + sql_.Double(value);
    case Prefix::kLt:
      return col + " < " + sql_.Double(value);
    case Prefix::kGe:
      return col + " >= " + sql_.Double(value);
    case Prefix::kLe:
      return col + " <= " + sql_.Double(value);
    case Prefix::kSa:
      return col + " >= " + sql_.Double(high);
    case Prefix::kEb:
      return col + " < " + sql_.Double(low);
    case Prefix::kAp: {
      const double d = std::fabs(value) / 10;
      return col + " >= " + sql_.Double(std::min(value - d, low)) + " AND " + col +
             " <= " + sql_.Double(std::max(value + d, high));
    }
  }
  return "false";
}

std::string PgSearch::TokenCondition(const TokenValue& t, const std::string& x) {
  std::string cond;
  if (t.code) cond = x + ".code = " + sql_.Text(*t.code);
  if (t.system) cond += (cond.empty() ? "" : " AND ") + x + ".system = " + sql_.Text(*t.system);
  return cond;
}

// The alternatives (OR-ed) by which one row of table alias `x` matches value `v`.
Result<std::vector<std::string>> PgSearch::ValueConditions(const Clause& cl, const SearchValue& v,
                                                           const std::string& x) {
  auto mismatch = [&] { return Invalid("a value of parameter '" + cl.param + "' does not fit its type"); };
  switch (cl.kind) {
    case ParamKind::kString: {
      const auto* s = std::get_if<StringValue>(&v);
      if (s == nullptr) return mismatch();
      if (cl.modifier == Modifier::kNone) {
        // string_lookup is of text_pattern_ops, which compare bytes like SQLite's BINARY.
        return std::vector<std::string>{StartsWith(x + ".normalized", s->normalized, "~>=~", "~<~")};
      }
      if (cl.modifier == Modifier::kContains) {
        return std::vector<std::string>{"strpos(" + x + ".normalized, " + sql_.Text(s->normalized) + ") > 0"};
      }
      if (cl.modifier == Modifier::kExact) {
        return std::vector<std::string>{x + ".normalized = " + sql_.Text(s->normalized) + " AND " + x +
                                        ".exact = " + sql_.Text(s->exact)};
      }
      break;
    }
    case ParamKind::kToken: {
      if (cl.modifier == Modifier::kText) {
        std::string text;
        if (const auto* t = std::get_if<TokenValue>(&v); t != nullptr && t->code) {
          text = *t->code;
        } else if (const auto* s = std::get_if<StringValue>(&v)) {
          text = s->normalized;
        } else {
          return mismatch();
        }
        // Some text of the code starts with the value.
        return std::vector<std::string>{x + ".text <> '' AND starts_with(" + x + ".text, " + sql_.Text(text) + ")"};
      }
      if (cl.modifier == Modifier::kOfType) {
        // Rows of <param>:of-type: the type coding, and the identifier's value as text.
        const auto* o = std::get_if<OfTypeValue>(&v);
        if (o == nullptr) return mismatch();
        return std::vector<std::string>{x + ".code = " + sql_.Text(o->type_code) + " AND " + x +
                                        ".system = " + sql_.Text(o->type_system) + " AND " + x +
                                        ".text = " + sql_.Text(o->value)};
      }
      if (cl.modifier != Modifier::kNone && cl.modifier != Modifier::kNot) break;
      const auto* t = std::get_if<TokenValue>(&v);
      if (t == nullptr || (!t->code && !t->system)) return mismatch();
      return std::vector<std::string>{TokenCondition(*t, x)};
    }
    case ParamKind::kDate: {
      const auto* d = std::get_if<DateValue>(&v);
      if (d == nullptr || d->low > d->high) return mismatch();
      if (cl.modifier != Modifier::kNone) break;
      return std::vector<std::string>{DateCondition(d->prefix, x + ".low", x + ".high", d->low, d->high)};
    }
    case ParamKind::kNumber: {
      const auto* n = std::get_if<NumberValue>(&v);
      if (n == nullptr || !std::isfinite(n->value) || !std::isfinite(n->low) || !std::isfinite(n->high)) {
        return mismatch();
      }
      if (cl.modifier != Modifier::kNone) break;
      return std::vector<std::string>{NumberCondition(n->prefix, x + ".value", n->value, n->low, n->high)};
    }
    case ParamKind::kQuantity: {
      const auto* n = std::get_if<QuantityValue>(&v);
      if (n == nullptr || !std::isfinite(n->value) || !std::isfinite(n->low) || !std::isfinite(n->high)) {
        return mismatch();
      }
      if (cl.modifier != Modifier::kNone) break;
      if (!n->canonical_unit.empty()) {
        return std::vector<std::string>{x + ".canonical_unit = " + sql_.Text(n->canonical_unit) + " AND " +
                                        NumberCondition(n->prefix, x + ".canonical_value", n->canonical_value,
                                                        n->canonical_low, n->canonical_high)};
      }
      std::string cond;
      if (!n->system.empty()) cond += x + ".system = " + sql_.Text(n->system) + " AND ";
      if (!n->code.empty()) {
        // Without a system the code may also be the unit as written (`5.4||mg`).
        const std::string code = sql_.Text(n->code);
        cond += n->system.empty() ? "(" + x + ".code = " + code + " OR " + x + ".unit = " + code + ") AND "
                                  : x + ".code = " + code + " AND ";
      }
      return std::vector<std::string>{cond + NumberCondition(n->prefix, x + ".value", n->value, n->low, n->high)};
    }
    case ParamKind::kReference: {
      if (cl.modifier == Modifier::kIdentifier) {
        const auto* t = std::get_if<TokenValue>(&v);
        if (t == nullptr || (!t->code && !t->system)) return mismatch();
        return std::vector<std::string>{TokenCondition(*t, x)};
      }
      const auto* r = std::get_if<ReferenceValue>(&v);
      if (r == nullptr) return mismatch();
      if (cl.modifier != Modifier::kNone && cl.modifier != Modifier::kType) break;
      std::string type = r->type;
      if (cl.modifier == Modifier::kType) {
        if (cl.type.empty()) return Invalid("the :[type] modifier of '" + cl.param + "' names no type");
        if (!type.empty() && type != cl.type) return std::vector<std::string>{"false"};
        type = cl.type;
      }
      std::vector<std::string> alternatives;
      if (!r->id.empty()) {
        std::string type_cond;
        if (type.empty()) {
          // Any type that has resources in the tenant (as SQLite reads it).
          EHR_ASSIGN_OR_RETURN(const std::vector<std::string>* all, TenantTypes());
          type_cond = all->empty() ? "false" : x + ".target_type" + sql_.OneOf(*all);
        } else {
          type_cond = x + ".target_type = " + sql_.Text(type);
        }
        alternatives.push_back(x + ".target_id = " + sql_.Text(r->id) + " AND " + type_cond);
      }
      if (!r->url.empty()) alternatives.push_back(x + ".url <> '' AND " + x + ".url = " + sql_.Text(r->url));
      if (alternatives.empty()) return mismatch();
      return alternatives;
    }
    case ParamKind::kUri: {
      const auto* u = std::get_if<UriValue>(&v);
      if (u == nullptr) return mismatch();
      if (cl.modifier == Modifier::kNone) return std::vector<std::string>{x + ".uri = " + sql_.Text(u->uri)};
      if (cl.modifier == Modifier::kBelow) {
        return std::vector<std::string>{StartsWith(x + ".uri", u->uri)};
      }
      if (cl.modifier == Modifier::kContains) {
        // A plain substring test, as written: URIs are case-sensitive.
        return std::vector<std::string>{"strpos(" + x + ".uri, " + sql_.Text(u->uri) + ") > 0"};
      }
      if (cl.modifier == Modifier::kAbove) {
        // The row is a prefix of the value: within [first character, value], then checked.
        const std::string uri = sql_.Text(u->uri);
        return std::vector<std::string>{x + ".uri <= " + uri + " AND " + x + ".uri >= left(" + uri + ", 1) AND " +
                                        "left(" + uri + ", length(" + x + ".uri)) = " + x + ".uri"};
      }
      break;
    }
    default:
      break;
  }
  return Unsupported("modifier not supported for parameter '" + cl.param + "'");
}

Result<Compiled> PgSearch::CompileIndexed(const Clause& cl, const std::vector<std::string>& types) {
  // :of-type and :identifier read token rows of their own (store::ModifierParam).
  const bool of_type = cl.kind == ParamKind::kToken && cl.modifier == Modifier::kOfType;
  const bool identifier = cl.kind == ParamKind::kReference && cl.modifier == Modifier::kIdentifier;
  const char* table = of_type || identifier ? "token_index" : TableOf(cl.kind);
  if (table == nullptr) return Invalid("parameter '" + cl.param + "' has no index");
  if (cl.modifier != Modifier::kMissing && cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  const std::string param = of_type      ? ModifierParam(cl.param, "of-type")
                            : identifier ? ModifierParam(cl.param, "identifier")
                                         : cl.param;
  const std::string x = sql_.Alias("x");
  const std::string head = Head(table, x, types, param);
  Compiled out;
  if (cl.modifier == Modifier::kMissing) {
    out.arms.push_back({"", x + ".seq", head});
    out.negated = cl.missing;
    return out;
  }
  // A long list of system|code values (a value-set expansion) is one arm whose rows match
  // any of the pairs, not an arm per value.
  std::vector<bool> listed(cl.values.size(), false);
  std::vector<std::string> codes, systems;
  if (cl.kind == ParamKind::kToken && (cl.modifier == Modifier::kNone || cl.modifier == Modifier::kNot) &&
      cl.values.size() > kArmsBeforeList) {
    for (size_t i = 0; i < cl.values.size(); ++i) {
      const auto* t = std::get_if<TokenValue>(&cl.values[i]);
      if (t == nullptr || !t->code || !t->system) continue;
      listed[i] = true;
      codes.push_back(*t->code);
      systems.push_back(*t->system);
    }
  }
  for (size_t i = 0; i < cl.values.size(); ++i) {
    if (listed[i]) continue;
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> alternatives, ValueConditions(cl, cl.values[i], x));
    for (std::string& cond : alternatives) out.arms.push_back({"", x + ".seq", head + " AND " + cond});
  }
  if (!codes.empty()) {
    const std::string code_list = sql_.TextArray(codes);
    out.arms.push_back({"", x + ".seq",
                        head + " AND " + x + ".code = ANY(" + code_list + ") AND (" + x + ".code, " + x +
                            ".system) IN (SELECT * FROM unnest(" + code_list + ", " + sql_.TextArray(systems) + "))"});
  }
  out.negated = cl.modifier == Modifier::kNot;
  return out;
}

// The names of the composite rows in `table` whose token matches `token` (store.h: the
// token is part of the parameter name), when it is not one code of one system.
Result<std::vector<std::string>> PgSearch::CompositeParams(const char* table, const std::vector<std::string>& types,
                                                           const std::string& composite, const TokenValue& token) {
  const std::string prefix = token.code ? CompositeCodePrefix(composite, *token.code) : CompositePrefix(composite);
  const std::optional<std::string> end = PrefixEnd(prefix);
  EHR_ASSIGN_OR_RETURN(Rows rows, c_.Run(std::string("SELECT DISTINCT type, param FROM ") + table +
                                             " WHERE tenant = $1::text AND type = ANY($2::text[]) "
                                             "AND param >= $3::text AND ($4::text IS NULL OR param < $4::text)",
                                         {q_.tenant, ArrayLiteral(std::vector<std::string_view>(types.begin(), types.end())),
                                          prefix, end ? Param(*end) : Param(std::nullopt)}));
  std::set<std::string> params;
  size_t keys = 0;  // (type, name) pairs, as SQLite counts its parameter keys
  for (int i = 0; i < rows.size(); ++i) {
    const std::string param = rows.String(i, 1);
    if (!token.code) {
      std::optional<CompositeToken> parsed = ParseCompositeParam(param);
      if (!parsed || parsed->system != *token.system) continue;
    }
    if (keys++ == kMaxCompositeKeys) {
      return Invalid("a value of '" + composite + "' stands for more than " + std::to_string(kMaxCompositeKeys) +
                     " codes; give the code (system|code)");
    }
    params.insert(param);
  }
  return std::vector<std::string>(params.begin(), params.end());
}

// Composite rows (store.h) are those of the component after the token, in its table, under
// names that hold the token. Two numbers after the token (MolecularSequence coordinates)
// are the low and high of a date_index row.
Result<Compiled> PgSearch::CompileComposite(const Clause& cl, const std::vector<std::string>& types) {
  const std::vector<ParamKind>& kinds = cl.components;
  const bool pair = kinds.size() == 3 && kinds[1] == ParamKind::kNumber && kinds[2] == ParamKind::kNumber;
  const char* table = pair ? "date_index" : kinds.size() == 2 ? TableOf(kinds[1]) : nullptr;
  if (kinds.empty() || kinds[0] != ParamKind::kToken || table == nullptr) {
    return Invalid("composite parameter '" + cl.param + "' has components the index cannot hold");
  }
  const std::vector<std::string> own = {cl.param};
  const std::vector<std::string>& names = cl.composite_parts.empty() ? own : cl.composite_parts;
  const std::string x = sql_.Alias("x");
  const std::string rows_of_types =
      std::string("FROM ") + table + " " + x + " WHERE " + x + ".tenant = $1::text AND " + x + ".type" + sql_.OneOf(types);
  Compiled out;
  if (cl.modifier == Modifier::kMissing) {
    std::string ranges;
    for (const std::string& name : names) {
      ranges += (ranges.empty() ? "(" : " OR (") + StartsWith(x + ".param", CompositePrefix(name)) + ")";
    }
    out.arms.push_back({"", x + ".seq", rows_of_types + " AND (" + ranges + ")"});
    out.negated = cl.missing;
    return out;
  }
  if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for parameter '" + cl.param + "'");
  if (cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  Clause component;
  component.param = cl.param;
  component.kind = kinds[1];
  for (const SearchValue& v : cl.values) {
    const auto* c = std::get_if<CompositeValue>(&v);
    const TokenValue* token = c != nullptr && c->components.size() == kinds.size()
                                  ? std::get_if<TokenValue>(&c->components[0])
                                  : nullptr;
    if (token == nullptr || (!token->code && !token->system)) {
      return Invalid("a value of parameter '" + cl.param + "' does not fit its components");
    }
    std::vector<std::string> alternatives;
    if (pair) {
      const auto* start = std::get_if<NumberValue>(&c->components[1]);
      const auto* end = std::get_if<NumberValue>(&c->components[2]);
      if (start == nullptr || end == nullptr) return Invalid("a value of '" + cl.param + "' does not fit its components");
      alternatives.push_back(NumberCondition(start->prefix, x + ".low", start->value, start->low, start->high) +
                             " AND " + NumberCondition(end->prefix, x + ".high", end->value, end->low, end->high));
    } else {
      const SearchValue second = std::visit([](const auto& value) { return SearchValue(value); }, c->components[1]);
      EHR_ASSIGN_OR_RETURN(alternatives, ValueConditions(component, second, x));
    }
    std::vector<std::string> params;
    for (const std::string& name : names) {
      if (token->code && token->system) {
        params.push_back(CompositeParam(name, *token->code, *token->system));
        continue;
      }
      EHR_ASSIGN_OR_RETURN(std::vector<std::string> more, CompositeParams(table, types, name, *token));
      params.insert(params.end(), more.begin(), more.end());
    }
    if (params.empty()) continue;
    const std::string head = rows_of_types + " AND " + x + ".param" + sql_.OneOf(params);
    for (std::string& cond : alternatives) out.arms.push_back({"", x + ".seq", head + " AND " + cond});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

// _text and _content: a group of phrases (the groups of a value OR-ed, one arm each) is the
// versions whose text_index row holds every word's number, in the column's field, and whose
// words (TextWords: each followed by a space) then hold each phrase. The longest word is
// looked up in the GIN index (text_matches: row-level security keeps the index from the
// query's own operators), the others tested in the rows it finds. The phrase check also
// drops the candidates of another word with the same number.
Result<Compiled> PgSearch::CompileText(const Clause& cl, const std::vector<std::string>& types) {
  const char* column = cl.param == "_text" ? "narrative" : cl.param == "_content" ? "content" : nullptr;
  if (column == nullptr) return Invalid("parameter '" + cl.param + "' is no full-text parameter");
  if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for parameter '" + cl.param + "'");
  if (cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  if (types.empty()) return Constant(false);  // a tenant with nothing stored
  const char field = cl.param == "_text" ? 'n' : 'c';
  Compiled out;
  bool large = false;
  std::string probe;
  for (const SearchValue& v : cl.values) {
    const auto* text = std::get_if<TextValue>(&v);
    if (text == nullptr || text->groups.empty()) return Invalid("a value of '" + cl.param + "' is not a text query");
    for (const std::vector<std::string>& group : text->groups) {
      if (group.empty()) return Invalid("a value of '" + cl.param + "' has an empty group of words");
    }
    for (const std::vector<std::string>& group : text->groups) {
      // A phrase without a word is left out, as FTS5 leaves it out; a group of none matches nothing.
      std::set<std::string> words;
      std::vector<std::string> phrases;
      for (const std::string& phrase : group) {
        std::string phrase_words = TextWords(phrase);
        if (phrase_words.empty()) continue;
        for (const std::string& word : SplitWords(phrase)) words.insert(Lexeme(word));
        phrases.push_back(std::move(phrase_words));
      }
      if (phrases.empty() || words.empty()) continue;
      // The word's number for each type searched (text_words.h WordHash), as an array.
      auto any_type = [&](const std::string& word) {
        std::string hashes = "{";
        for (const std::string& type : types) {
          hashes += (hashes.size() > 1 ? "," : "") + std::to_string(WordHash(type, field, word));
        }
        return sql_.Text(hashes + "}") + "::bigint[]";
      };
      const std::string* longest = &*words.begin();
      for (const std::string& word : words) {
        if (word.size() > longest->size()) longest = &word;
      }
      const std::string x = sql_.Alias("x");
      std::string where = x + ".type" + sql_.OneOf(types);
      for (const std::string& word : words) {
        if (&word != longest) where += " AND " + x + ".words && " + any_type(word);
      }
      for (const std::string& phrase : phrases) {
        where += std::string(" AND strpos(' ' || ") + x + "." + column + "_words, " + sql_.Text(" " + phrase) + ") > 0";
      }
      const std::string first = any_type(*longest);
      out.arms.push_back({"", x + ".seq", "FROM text_matches(" + first + ", NULL) " + x + " WHERE " + where});
      // Many rows hold the longest word (counted up to kProbeTargets, each a row visit):
      // a page in seq order tests its candidates' rows instead (Compiled::probe).
      if (ProbesPay() && !large) {
        Compiled rows_of_first;
        rows_of_first.arms.push_back({"", x + ".seq", "FROM text_matches(" + first + ", " +
                                                          sql_.Int(kProbeTargets + 1) + ") " + x});
        EHR_ASSIGN_OR_RETURN(int64_t many, CountUpTo(rows_of_first, kProbeTargets + 1));
        large = many > kProbeTargets;
      }
      probe += (probe.empty() ? "" : " OR ") + std::string("coalesce((SELECT true FROM text_index ") + x + " WHERE " +
               x + ".seq = " + std::string(kSeqMark) + " AND " + x + ".words && " + first + " AND " + where +
               "), false)";
    }
  }
  if (out.arms.empty()) return Constant(false);
  if (large) out.probe = out.arms.size() == 1 ? probe : "(" + probe + ")";
  return out;
}

Result<Compiled> PgSearch::CompileChain(const Clause& cl, const std::vector<std::string>& types, int depth) {
  if (cl.kind != ParamKind::kReference || cl.chain.size() != 1 || !cl.values.empty()) {
    return Invalid("chained parameter '" + cl.param + "' must be a reference with one chained clause");
  }
  std::vector<std::string> targets;
  if (cl.type.empty()) {
    EHR_ASSIGN_OR_RETURN(const std::vector<std::string>* all, TenantTypes());
    targets = *all;
  } else {
    targets = {cl.type};
  }
  EHR_ASSIGN_OR_RETURN(Compiled matched, MatchSet(cl.chain[0], targets, depth + 1));
  EHR_ASSIGN_OR_RETURN(Compiled inner, WithinAccess(std::move(matched), targets));
  if (targets.empty() || inner.arms.empty()) return Constant(false);
  const std::string x = sql_.Alias("x"), t = sql_.Alias("t");
  const std::string head = Head("reference_index", x, types, cl.param) + " AND " + x + ".target_type" +
                           sql_.OneOf(targets);
  Compiled out;
  out.arms.push_back({"", x + ".seq",
                      head + " AND (" + x + ".target_type, " + x + ".target_id) IN (SELECT " + t + ".type, " + t +
                          ".id FROM resource_version " + t + " WHERE " + t + ".seq IN (" +
                          RenderSet(inner.arms, true) + "))"});
  // Many targets: also as a test of one candidate, its reference rows (by seq) to their
  // current targets, each tested in turn, with no join for the planner to turn around.
  int64_t many = 0;
  if (ProbesPay()) {
    EHR_ASSIGN_OR_RETURN(many, CountUpTo(inner, kProbeTargets + 1));
  }
  if (many > kProbeTargets) {
    // Each table read through one key (OneVersion): the candidate's reference rows by seq,
    // their targets' current versions by (tenant, type, id).
    const std::string mark(kSeqMark);
    out.probe = "coalesce((SELECT true " + OneVersion(head, x + ".seq", mark) + " AND (SELECT true FROM (SELECT * FROM " +
                "resource_version WHERE tenant = $1::text AND type = " + x + ".target_type AND id = " + x +
                ".target_id AND is_current OFFSET 0) " + t + " WHERE NOT " + t + ".deleted AND " +
                Probe(inner, t + ".seq") + " LIMIT 1) LIMIT 1), false)";
  }
  return out;
}

Result<Compiled> PgSearch::CompileHas(const Clause& cl, const std::vector<std::string>& types, int depth) {
  if (cl.has_type.empty() || cl.has_param.empty() || cl.chain.size() != 1) {
    return Invalid("_has needs a resource type, a reference parameter and one clause");
  }
  const std::vector<std::string> sources = {cl.has_type};
  EHR_ASSIGN_OR_RETURN(Compiled matched, MatchSet(cl.chain[0], sources, depth + 1));
  EHR_ASSIGN_OR_RETURN(Compiled inner, WithinAccess(std::move(matched), sources));
  if (inner.arms.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  Compiled out;
  out.arms.push_back({x + ".target_type", x + ".target_id",
                      Head("reference_index", x, sources, cl.has_param) + " AND " + x + ".target_type" +
                          sql_.OneOf(types) + " AND " + x + ".seq IN (" + RenderSet(inner.arms, true) + ")"});
  out.by_seq = false;
  out.live = false;  // a reference may point to a deleted or missing resource
  return out;
}

// _list: the resources the current version of a List (one of the values) names in
// List.entry.item, through that List's own `item` reference rows.
Result<Compiled> PgSearch::CompileList(const Clause& cl, const std::vector<std::string>& types) {
  if (cl.modifier != Modifier::kNone) return Invalid("_list takes no modifier");
  if (cl.values.empty()) return Invalid("_list has no value");
  std::vector<std::string> ids;
  for (const SearchValue& v : cl.values) {
    const auto* t = std::get_if<TokenValue>(&v);
    if (t == nullptr || !t->code) return Invalid("a value of _list is not the id of a List");
    ids.push_back(*t->code);
  }
  const std::string x = sql_.Alias("x"), l = sql_.Alias("l");
  Compiled out;
  out.arms.push_back({x + ".target_type", x + ".target_id",
                      "FROM resource_version " + l + " JOIN reference_index " + x + " ON " + x + ".seq = " + l +
                          ".seq AND " + x + ".tenant = $1::text AND " + x + ".type = 'List' AND " + x +
                          ".param = 'item' AND " + x + ".target_type" + sql_.OneOf(types) + " WHERE " + l +
                          ".tenant = $1::text AND " + l + ".type = 'List' AND " + l + ".id" + sql_.OneOf(ids) +
                          " AND " + l + ".is_current AND NOT " + l + ".deleted"});
  out.by_seq = false;
  out.live = false;
  return out;
}

// Location near (store.h kNearLatitude, kNearLongitude): positions whose great-circle
// distance from the point is at most the value's, computed as SQLite computes it
// (haversine, on a sphere of the Earth's mean radius), after the same bands narrow the rows.
Result<Compiled> PgSearch::CompileNear(const Clause& cl, const std::vector<std::string>& types) {
  constexpr double kEarthKm = 6371.0088;
  constexpr double kKmPerDegree = kEarthKm * 3.14159265358979323846 / 180;
  Compiled out;
  for (const SearchValue& v : cl.values) {
    const auto* n = std::get_if<NearValue>(&v);
    if (n == nullptr) return Invalid("a value of 'near' is not a position");
    const std::string x = sql_.Alias("x"), y = sql_.Alias("y");
    const double dlat = n->distance_km / kKmPerDegree;
    std::string where = x + ".value BETWEEN " + sql_.Double(n->latitude - dlat) + " AND " +
                        sql_.Double(n->latitude + dlat);
    const double widest = std::max(std::abs(n->latitude - dlat), std::abs(n->latitude + dlat));
    if (widest < 89) {
      const double dlon = dlat / std::cos(widest * 3.14159265358979323846 / 180);
      if (n->longitude - dlon >= -180 && n->longitude + dlon <= 180) {
        where += " AND " + y + ".value BETWEEN " + sql_.Double(n->longitude - dlon) + " AND " +
                 sql_.Double(n->longitude + dlon);
      }
    }
    const std::string lat = sql_.Double(n->latitude), lon = sql_.Double(n->longitude);
    where += " AND 2 * " + sql_.Double(kEarthKm) + " * asin(least(1, sqrt(power(sin(radians(" + x + ".value - " + lat +
             ") / 2), 2) + cos(radians(" + lat + ")) * cos(radians(" + x + ".value)) * power(sin(radians(" + y +
             ".value - " + lon + ") / 2), 2)))) <= " + sql_.Double(n->distance_km);
    out.arms.push_back({"", x + ".seq",
                        "FROM number_index " + x + " JOIN number_index " + y + " ON " + y + ".seq = " + x +
                            ".seq AND " + y + ".tenant = $1::text AND " + y + ".param = " +
                            sql_.Text(std::string(kNearLongitude)) + " WHERE " + x + ".tenant = $1::text AND " + x +
                            ".type" + sql_.OneOf(types) + " AND " + x + ".param = " +
                            sql_.Text(std::string(kNearLatitude)) + " AND " + where});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

Result<Compiled> PgSearch::Compile(const Clause& cl, const std::vector<std::string>& types, const std::string& alias,
                                   int depth) {
  if (depth > kMaxChainDepth)
    return Invalid("chains and _has are limited to " + std::to_string(kMaxChainDepth) + " levels");
  if (++clauses_ > kMaxClauses) return Invalid("too many parameters (at most " + std::to_string(kMaxClauses) + ")");
  if (cl.modifier == Modifier::kIn || cl.modifier == Modifier::kNotIn ||
      (cl.kind == ParamKind::kToken && (cl.modifier == Modifier::kAbove || cl.modifier == Modifier::kBelow))) {
    return Status::Internal("search: a value set or code hierarchy was not expanded before the query reached the store");
  }
  const bool listable = cl.kind == ParamKind::kToken && (cl.modifier == Modifier::kNone || cl.modifier == Modifier::kNot);
  if (cl.values.size() > (listable ? kMaxListedValues : kMaxValues)) {
    return Invalid("too many values for '" + cl.param + "' (at most " +
                   std::to_string(listable ? kMaxListedValues : kMaxValues) + ")");
  }
  // What the limit guards is the number of arms: listed system|code pairs are one.
  size_t arms = cl.values.size();
  if (listable && cl.values.size() > kArmsBeforeList) {
    arms = 1;
    for (const SearchValue& v : cl.values) {
      const auto* t = std::get_if<TokenValue>(&v);
      if (t == nullptr || !t->code || !t->system) ++arms;
    }
  }
  values_ += arms;
  if (values_ > kMaxTotalValues) return Invalid("too many values (at most " + std::to_string(kMaxTotalValues) + ")");
  if (!cl.has_type.empty() || cl.param == "_has") return CompileHas(cl, types, depth);
  if (!cl.chain.empty()) return CompileChain(cl, types, depth);
  Compiled out;
  if (cl.kind == ParamKind::kId) {
    if (cl.modifier != Modifier::kNone && cl.modifier != Modifier::kNot)
      return Unsupported("modifier not supported for _id");
    if (cl.values.empty()) return Invalid("_id has no value");
    std::vector<std::string> ids;
    for (const SearchValue& v : cl.values) {
      const auto* t = std::get_if<TokenValue>(&v);
      if (t == nullptr || !t->code) return Invalid("a value of _id is not an id");
      ids.push_back(*t->code);
    }
    const std::string in = alias + ".id" + sql_.OneOf(ids);
    out.condition = cl.modifier == Modifier::kNot ? "NOT (" + in + ")" : in;
    return out;
  }
  if (cl.kind == ParamKind::kLastUpdated) {
    if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for _lastUpdated");
    if (cl.values.empty()) return Invalid("_lastUpdated has no value");
    std::string any;
    for (const SearchValue& v : cl.values) {
      const auto* d = std::get_if<DateValue>(&v);
      if (d == nullptr || d->low > d->high) return Invalid("a value of _lastUpdated is not a date");
      const std::string col = alias + ".last_updated";
      any += (any.empty() ? "(" : " OR (") + DateCondition(d->prefix, col, col, d->low, d->high) + ")";
    }
    out.condition = cl.values.size() == 1 ? any : "(" + any + ")";
    return out;
  }
  if (cl.kind == ParamKind::kComposite) return CompileComposite(cl, types);
  if (cl.kind == ParamKind::kText) return CompileText(cl, types);
  if (cl.kind == ParamKind::kList) return CompileList(cl, types);
  if (cl.kind == ParamKind::kNear) return CompileNear(cl, types);
  return CompileIndexed(cl, types);
}

// The live resources of `types` that match `cl`, as a positive set of versions.
Result<Compiled> PgSearch::MatchSet(const Clause& cl, const std::vector<std::string>& types, int depth) {
  const std::string a = sql_.Alias("a");
  EHR_ASSIGN_OR_RETURN(Compiled c, Compile(cl, types, a, depth));
  if (!c.arms.empty() && !c.negated && c.live && c.by_seq) return c;
  const std::string cond = c.arms.empty() ? c.condition : InSet(a, c, types.size() == 1);
  Compiled out;
  out.arms.push_back({"", a + ".seq",
                      "FROM resource_version " + a + " WHERE " + a + ".tenant = $1::text AND " + a + ".type" +
                          sql_.OneOf(types) + " AND " + a + ".is_current AND NOT " + a + ".deleted AND " + cond});
  return out;
}

}  // namespace ehr::store::pg::internal
