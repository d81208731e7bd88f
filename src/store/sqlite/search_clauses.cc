// The clauses of a store::SearchQuery as SQL sets (Compiled, search_sql_internal.h): each
// OR-ed value one UNION ALL arm, a range of one index table's primary key under the
// parameter's search_param keys; composites read their second component's table, _text and
// _content match text_index, chains and _has nest sets, _list reads a List's reference rows.
// search_sql.cc combines the sets into a plan and runs it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/sqlite/search_sql_internal.h"

namespace ehr::store::sqlite::internal {
namespace {

// Upper bound of the strings starting with `prefix` under BINARY collation: 0xFF never
// occurs in UTF-8, so every such string sorts below it.
std::string PrefixEnd(std::string prefix) {
  prefix.push_back('\xff');
  return prefix;
}

Micros Clamp(double d) {
  if (d >= 9.2e18) return std::numeric_limits<Micros>::max();
  if (d <= -9.2e18) return std::numeric_limits<Micros>::min();
  return static_cast<Micros>(d);
}

// The constant set of a clause whose parameter has no index rows for these types.
Compiled Constant(bool matches) {
  Compiled out;
  out.condition = matches ? kAlways : kNever;
  return out;
}

// A JSON string literal of `text`.
std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// An FTS5 string: the text between double quotes, each quote in it doubled. Inside one,
// nothing is an operator: the tokenizer makes words of it and the words form a phrase.
std::string FtsString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

// A version's reference row points to a resource of `targets` in `inner` (a set of versions).
std::string TargetIn(const std::string& x, const Compiled& inner, bool single_target) {
  const std::string versions = "FROM resource_version t WHERE t.seq IN (" + RenderSet(inner.arms, true) + ")";
  if (single_target) return x + ".target_id IN (SELECT t.id " + versions + ")";
  return "(" + x + ".target_type, " + x + ".target_id) IN (SELECT t.type, t.id " + versions + ")";
}

// The same for one reference row being probed: its target looked up by id (resource_live_id)
// and tested on its own seq, instead of building every target of the inner set first (the
// ids of 5,000 matching patients cost 20 ms to read, for a page that needs a few).
std::string TargetMatches(const std::string& x, const std::string& t, const Compiled& inner) {
  return "EXISTS (SELECT 1 FROM resource_version " + t + " WHERE " + t + ".tenant = ?1 AND " + t + ".type = " + x +
         ".target_type AND " + t + ".deleted = 0 AND " + t + ".is_current = 1 AND " + t + ".id = " + x +
         ".target_id AND " + InSet(t, inner, true, true) + ")";
}

}  // namespace

Result<const std::vector<std::string>*> SqlSearch::TenantTypes() {
  if (!tenant_types_) {
    // A skip scan of resource_live_id: one seek per type instead of reading every resource.
    std::vector<std::string> types;
    std::string after;  // '' sorts before every type name
    while (types.size() < kMaxTypes) {
      std::string next;
      {
        EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT type FROM resource_version INDEXED BY resource_live_id "
                                                "WHERE tenant = ?1 AND type > ?2 AND is_current = 1 AND deleted = 0 "
                                                "ORDER BY type LIMIT 1",
                                                "list resource types"));
        s.BindText(1, q_.tenant).BindText(2, after);
        EHR_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        next = s.ColumnText(0);
      }
      after = next;
      types.push_back(std::move(next));
    }
    tenant_types_ = std::move(types);
  }
  return &*tenant_types_;
}

// The search_param keys of `param` on `types` (those that have ever been indexed).
Result<std::vector<int64_t>> SqlSearch::ParamKeys(const std::vector<std::string>& types, const std::string& param) {
  std::vector<int64_t> keys;
  for (const std::string& type : types) {
    auto [it, added] = param_keys_.try_emplace({type, param});
    if (added) {
      EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT pk FROM search_param WHERE tenant = ?1 AND type = ?2 AND param = ?3",
                                              "read search parameter key"));
      s.BindText(1, q_.tenant).BindText(2, type).BindText(3, param);
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) it->second = s.ColumnInt(0);
    }
    if (it->second) keys.push_back(*it->second);
  }
  return keys;
}

std::string SqlSearch::DateCondition(Prefix p, const std::string& low, const std::string& high, Micros vl, Micros vh) {
  // Row [low, high] against value [vl, vh], both inclusive (R4 search 3.1.1.4). Terms marked
  // "bound" are implied by the rest and only give an index a range to seek; a `+` keeps a
  // term from being the range (without statistics SQLite may pick the wider one).
  const std::string bl = sql_.Bind(vl), bh = sql_.Bind(vh);
  const std::string eq = "(" + low + " >= " + bl + " AND +" + high + " <= " + bh + ")";
  switch (p) {
    case Prefix::kEq:
      return low + " <= " + bh + " AND " + eq;  // bound: low <= vh
    case Prefix::kNe:
      return "NOT " + eq;
    case Prefix::kGt:
      return high + " > " + bh;
    case Prefix::kLt:
      return low + " < " + bl;
    case Prefix::kGe:
      return high + " >= " + bl + " AND (" + high + " > " + bh + " OR " + eq + ")";  // bound: high >= vl
    case Prefix::kLe:
      return low + " <= " + bh + " AND (" + low + " < " + bl + " OR " + eq + ")";  // bound: low <= vh
    case Prefix::kSa:
      return low + " > " + bh;
    case Prefix::kEb:
      return high + " < " + bl;
    case Prefix::kAp: {
      // Overlaps the value widened on each side by 10% of its distance to now. The range is
      // on `high`: ap values are usually recent, and few rows end after a recent instant.
      const Micros al = Clamp(static_cast<double>(vl) - std::fabs(static_cast<double>(o_.now) - vl) / 10);
      const Micros ah = Clamp(static_cast<double>(vh) + std::fabs(static_cast<double>(o_.now) - vh) / 10);
      return "+" + low + " <= " + sql_.Bind(ah) + " AND " + high + " >= " + sql_.Bind(al);
    }
  }
  return "0";
}

std::string SqlSearch::NumberCondition(Prefix p, const std::string& col, double value, double low, double high) {
  // A row is a point; the value is [low, high) from its precision.
  switch (p) {
    case Prefix::kEq:
      return col + " >= " + sql_.Bind(low) + " AND " + col + " < " + sql_.Bind(high);
    case Prefix::kNe:
      return "(" + col + " < " + sql_.Bind(low) + " OR " + col + " >= " + sql_.Bind(high) + ")";
    case Prefix::kGt:
      return col + " > " + sql_.Bind(value);
    case Prefix::kLt:
      return col + " < " + sql_.Bind(value);
    case Prefix::kGe:
      return col + " >= " + sql_.Bind(value);
    case Prefix::kLe:
      return col + " <= " + sql_.Bind(value);
    case Prefix::kSa:
      return col + " >= " + sql_.Bind(high);
    case Prefix::kEb:
      return col + " < " + sql_.Bind(low);
    case Prefix::kAp: {
      const double d = std::fabs(value) / 10;
      return col + " >= " + sql_.Bind(std::min(value - d, low)) + " AND " + col +
             " <= " + sql_.Bind(std::max(value + d, high));
    }
  }
  return "0";
}

// A token row of alias `x` with the value's code and/or system.
std::string SqlSearch::TokenCondition(const TokenValue& t, const std::string& x) {
  std::string cond;
  if (t.code) cond = x + ".code = " + sql_.Bind(*t.code);
  if (t.system) cond += (cond.empty() ? "" : " AND ") + x + ".system = " + SystemNumber(*t.system);
  return cond;
}

// The alternatives (OR-ed) by which one row of table alias `x` matches value `v`.
Result<std::vector<std::string>> SqlSearch::ValueConditions(const Clause& cl, const SearchValue& v,
                                                            const std::string& x) {
  auto mismatch = [&] { return Invalid("a value of parameter '" + cl.param + "' does not fit its type"); };
  switch (cl.kind) {
    case ParamKind::kString: {
      const auto* s = std::get_if<StringValue>(&v);
      if (s == nullptr) return mismatch();
      if (cl.modifier == Modifier::kNone) {
        return std::vector<std::string>{x + ".normalized >= " + sql_.Bind(s->normalized) + " AND " + x +
                                        ".normalized < " + sql_.Bind(PrefixEnd(s->normalized))};
      }
      if (cl.modifier == Modifier::kContains) {
        // instr() is a plain substring test: no LIKE wildcards to escape.
        return std::vector<std::string>{"instr(" + x + ".normalized, " + sql_.Bind(s->normalized) + ") > 0"};
      }
      if (cl.modifier == Modifier::kExact) {
        // Equal text has equal normalized text: the index narrows on that first.
        return std::vector<std::string>{x + ".normalized = " + sql_.Bind(s->normalized) + " AND " + x +
                                        ".exact = " + sql_.Bind(s->exact)};
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
        // Some text of the code starts with the value (each text follows the mark).
        return std::vector<std::string>{"instr(" + x + ".text, " + sql_.Bind(std::string(kTokenTextMark) + text) +
                                        ") > 0"};
      }
      if (cl.modifier == Modifier::kOfType) {
        // Rows of <param>:of-type: the type coding's system, and its code with the value.
        const auto* o = std::get_if<OfTypeValue>(&v);
        if (o == nullptr) return mismatch();
        return std::vector<std::string>{
            x + ".code = " + sql_.Bind(o->type_code + std::string(kTokenTextMark) + o->value) + " AND " + x +
            ".system = " + SystemNumber(o->type_system)};
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
        return std::vector<std::string>{x + ".canonical_unit = " + sql_.Bind(n->canonical_unit) + " AND " +
                                        NumberCondition(n->prefix, x + ".canonical_value", n->canonical_value,
                                                        n->canonical_low, n->canonical_high)};
      }
      std::string cond;
      if (!n->system.empty()) cond += x + ".system = " + sql_.Bind(n->system) + " AND ";
      if (!n->code.empty()) {
        // Without a system the code may also be the unit as written (`5.4||mg`).
        const std::string code = sql_.Bind(n->code);
        cond += n->system.empty() ? "(" + x + ".code = " + code + " OR " + x + ".unit = " + code + ") AND "
                                  : x + ".code = " + code + " AND ";
      }
      return std::vector<std::string>{cond + NumberCondition(n->prefix, x + ".value", n->value, n->low, n->high)};
    }
    case ParamKind::kReference: {
      if (cl.modifier == Modifier::kIdentifier) {
        // Rows of <param>:identifier: Reference.identifier as a token.
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
        if (!type.empty() && type != cl.type) return std::vector<std::string>{"0"};
        type = cl.type;
      }
      std::vector<std::string> alternatives;
      if (!r->id.empty()) {
        std::string type_cond;
        if (type.empty()) {
          // Any type: one seek per type that has resources in the tenant.
          EHR_ASSIGN_OR_RETURN(const std::vector<std::string>* all, TenantTypes());
          type_cond = x + ".target_type " + sql_.TypeIs(*all);
        } else {
          type_cond = x + ".target_type = " + sql_.Bind(type);
        }
        alternatives.push_back(type_cond + " AND " + x + ".target_id = " + sql_.Bind(r->id));
      }
      if (!r->url.empty()) alternatives.push_back(x + ".url <> '' AND " + x + ".url = " + sql_.Bind(r->url));
      if (alternatives.empty()) return mismatch();
      return alternatives;
    }
    case ParamKind::kUri: {
      const auto* u = std::get_if<UriValue>(&v);
      if (u == nullptr) return mismatch();
      const std::string uri = sql_.Bind(u->uri);
      if (cl.modifier == Modifier::kNone) return std::vector<std::string>{x + ".uri = " + uri};
      if (cl.modifier == Modifier::kBelow) {
        return std::vector<std::string>{x + ".uri >= " + uri + " AND " + x + ".uri < " + sql_.Bind(PrefixEnd(u->uri))};
      }
      if (cl.modifier == Modifier::kContains) {
        // A plain substring test (instr: no LIKE wildcards), as written: URIs are case-sensitive.
        return std::vector<std::string>{"instr(" + x + ".uri, " + uri + ") > 0"};
      }
      if (cl.modifier == Modifier::kAbove) {
        // The row is a prefix of the value: within [first character, value], then checked.
        return std::vector<std::string>{x + ".uri <= " + uri + " AND " + x + ".uri >= substr(" + uri + ", 1, 1) AND " +
                                        "substr(" + uri + ", 1, length(" + x + ".uri)) = " + x + ".uri"};
      }
      break;
    }
    default:
      break;
  }
  return Unsupported("modifier not supported for parameter '" + cl.param + "'");
}

Result<Compiled> SqlSearch::CompileIndexed(const Clause& cl, const std::vector<std::string>& types) {
  // :of-type and :identifier read token rows of their own (store::ModifierParam).
  const bool of_type = cl.kind == ParamKind::kToken && cl.modifier == Modifier::kOfType;
  const bool identifier = cl.kind == ParamKind::kReference && cl.modifier == Modifier::kIdentifier;
  const char* table = of_type || identifier ? "token_index" : TableOf(cl.kind);
  if (table == nullptr) return Invalid("parameter '" + cl.param + "' has no index");
  if (cl.modifier != Modifier::kMissing && cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  const std::string key_param = of_type      ? ModifierParam(cl.param, "of-type")
                                : identifier ? ModifierParam(cl.param, "identifier")
                                             : cl.param;
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, key_param));
  const std::string x = sql_.Alias("x");
  const std::string head = std::string("FROM ") + table + " " + x + " WHERE " + x + ".pk " +
                           (keys.empty() ? std::string("IN ()") : sql_.KeyIs(keys));
  Compiled out;
  if (cl.modifier == Modifier::kMissing) {
    if (keys.empty()) return Constant(cl.missing);
    out.arms.push_back({"", x + ".seq", head});
    out.negated = cl.missing;
    return out;
  }
  // A long list of system|code values (a value-set expansion, api/value_sets.h) is one arm
  // whose rows match any of the pairs, not an arm per value: SQLite joins at most 500 arms
  // in one compound SELECT, and the index (pk, code, system, seq) serves the pairs alike.
  // The codes are also listed on their own: with `code IN (...)` SQLite seeks the index per
  // code and checks the pair; with the pairs alone it reads every row of the parameter.
  std::vector<bool> listed(cl.values.size(), false);
  std::string pairs, codes;
  if (cl.kind == ParamKind::kToken && (cl.modifier == Modifier::kNone || cl.modifier == Modifier::kNot) &&
      cl.values.size() > kArmsBeforeList) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < cl.values.size(); ++i) {
      const auto* t = std::get_if<TokenValue>(&cl.values[i]);
      if (t == nullptr || !t->code || !t->system) continue;
      listed[i] = true;
      pairs += (pairs.empty() ? "(" : ", (") + sql_.Bind(*t->code) + ", " + SystemNumber(*t->system) + ")";
      if (seen.insert(*t->code).second) codes += (codes.empty() ? "" : ", ") + sql_.Bind(*t->code);
    }
  }
  for (size_t i = 0; i < cl.values.size(); ++i) {
    if (listed[i]) continue;
    // Values are checked (and bound) even when nothing is indexed, so that a bad value is
    // an error whatever the data.
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> alternatives, ValueConditions(cl, cl.values[i], x));
    for (std::string& cond : alternatives) out.arms.push_back({"", x + ".seq", head + " AND " + cond});
  }
  if (!pairs.empty()) {
    out.arms.push_back({"", x + ".seq",
                        head + " AND " + x + ".code IN (" + codes + ") AND (" + x + ".code, " + x + ".system) IN (VALUES " +
                            pairs + ")"});
  }
  out.negated = cl.modifier == Modifier::kNot;
  // Token rows are unique per (pk, code, system, seq) (schema.cc, migration 5), and a
  // version has one type, so one system|code arm holds each version once.
  if (out.arms.size() == 1 && cl.values.size() == 1 && (cl.kind == ParamKind::kToken || identifier)) {
    const SearchValue& v = cl.values.front();
    const auto* t = std::get_if<TokenValue>(&v);
    out.unique = of_type || (t != nullptr && t->code && t->system &&
                             (cl.modifier == Modifier::kNone || cl.modifier == Modifier::kIdentifier));
  }
  if (keys.empty()) return Constant(out.negated);
  return out;
}

// The keys of the composite rows whose token matches `token` (store.h: the token is part
// of the parameter name): one key per type for system|code, else a range of search_param
// (every system of a code; every code, checked for the system).
Result<std::vector<int64_t>> SqlSearch::CompositeKeys(const std::vector<std::string>& types,
                                                      const std::string& composite, const TokenValue& token) {
  if (token.code && token.system) return ParamKeys(types, CompositeParam(composite, *token.code, *token.system));
  const std::string prefix = token.code ? CompositeCodePrefix(composite, *token.code) : CompositePrefix(composite);
  const std::string end = PrefixEnd(prefix);  // bound without a copy: must outlive the statement's use
  std::vector<int64_t> keys;
  for (const std::string& type : types) {
    EHR_ASSIGN_OR_RETURN(Stmt s, c_.Prepare("SELECT pk, param FROM search_param "
                                            "WHERE tenant = ?1 AND type = ?2 AND param >= ?3 AND param < ?4",
                                            "read composite parameter keys"));
    s.BindText(1, q_.tenant).BindText(2, type).BindText(3, prefix).BindText(4, end);
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (!token.code) {
        std::optional<CompositeToken> parsed = ParseCompositeParam(s.ColumnText(1));
        if (!parsed || parsed->system != *token.system) continue;
      }
      if (keys.size() == kMaxCompositeKeys) {
        return Invalid("a value of '" + composite + "' stands for more than " + std::to_string(kMaxCompositeKeys) +
                       " codes; give the code (system|code)");
      }
      keys.push_back(s.ColumnInt(0));
    }
  }
  return keys;
}

// Composite rows (store.h) are those of the component after the token, in its table, one
// parameter key per token: a value is the rows of its token's keys that match the second
// component as a clause of that kind would. Two numbers after the token (MolecularSequence
// coordinates) are the low and high of a date_index row.
Result<Compiled> SqlSearch::CompileComposite(const Clause& cl, const std::vector<std::string>& types) {
  const std::vector<ParamKind>& kinds = cl.components;
  const bool pair = kinds.size() == 3 && kinds[1] == ParamKind::kNumber && kinds[2] == ParamKind::kNumber;
  const char* table = pair ? "date_index" : kinds.size() == 2 ? TableOf(kinds[1]) : nullptr;
  if (kinds.empty() || kinds[0] != ParamKind::kToken || table == nullptr) {
    return Invalid("composite parameter '" + cl.param + "' has components the index cannot hold");
  }
  // A composite that is the union of others (Observation combo-*) reads their rows.
  const std::vector<std::string> own = {cl.param};
  const std::vector<std::string>& names = cl.composite_parts.empty() ? own : cl.composite_parts;
  const std::string x = sql_.Alias("x");
  Compiled out;
  if (cl.modifier == Modifier::kMissing) {
    std::string ranges;
    for (const std::string& name : names) {
      const std::string prefix = CompositePrefix(name);
      ranges += (ranges.empty() ? "(" : " OR (") + std::string("param >= ") + sql_.Bind(prefix) + " AND param < " +
                sql_.Bind(PrefixEnd(prefix)) + ")";
    }
    out.arms.push_back({"", x + ".seq",
                        std::string("FROM ") + table + " " + x + " WHERE " + x +
                            ".pk IN (SELECT pk FROM search_param WHERE tenant = ?1 AND type " + sql_.TypeIs(types) +
                            " AND (" + ranges + "))"});
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
    std::vector<int64_t> keys;
    for (const std::string& name : names) {
      EHR_ASSIGN_OR_RETURN(std::vector<int64_t> more, CompositeKeys(types, name, *token));
      keys.insert(keys.end(), more.begin(), more.end());
    }
    if (keys.empty()) continue;
    const std::string head = std::string("FROM ") + table + " " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys);
    for (std::string& cond : alternatives) out.arms.push_back({"", x + ".seq", head + " AND " + cond});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

// _text and _content: one MATCH of text_index per value, confined to the scope words of
// the searched types (queries.h) and to the column of the parameter. The expression is
// built here from quoted phrases and fixed operators only, and bound.
Result<Compiled> SqlSearch::CompileText(const Clause& cl, const std::vector<std::string>& types) {
  const char* column = cl.param == "_text" ? "narrative" : cl.param == "_content" ? "content" : nullptr;
  if (column == nullptr) return Invalid("parameter '" + cl.param + "' is no full-text parameter");
  if (cl.modifier != Modifier::kNone) return Unsupported("modifier not supported for parameter '" + cl.param + "'");
  if (cl.values.empty()) return Invalid("parameter '" + cl.param + "' has no value");
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, std::string(kTextScopeParam)));
  std::string scope;
  for (int64_t k : keys) scope += (scope.empty() ? "" : " OR ") + FtsString(TextScope(k));
  const std::string x = sql_.Alias("x");
  Compiled out;
  for (const SearchValue& v : cl.values) {
    const auto* text = std::get_if<TextValue>(&v);
    if (text == nullptr || text->groups.empty()) return Invalid("a value of '" + cl.param + "' is not a text query");
    std::string any;
    for (const std::vector<std::string>& group : text->groups) {
      if (group.empty()) return Invalid("a value of '" + cl.param + "' has an empty group of words");
      std::string all;
      for (const std::string& phrase : group) all += (all.empty() ? "" : " ") + FtsString(phrase);
      any += (any.empty() ? "(" : " OR (") + all + ")";
    }
    if (keys.empty()) continue;
    const std::string match = "{scope} : (" + scope + ") AND {" + column + "} : (" + any + ")";
    out.arms.push_back({"", x + ".rowid", "FROM text_index " + x + " WHERE " + x + ".text_index MATCH " + sql_.Bind(match)});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

Result<Compiled> SqlSearch::CompileChain(const Clause& cl, const std::vector<std::string>& types, int depth) {
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
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(types, cl.param));
  if (keys.empty() || targets.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  Compiled out;
  const std::string head = "FROM reference_index " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x +
                           ".target_type " + sql_.TypeIs(targets) + " AND ";
  // Counting the first rows (Estimate) goes from the targets to the rows that refer to
  // them (reference_target): after `gender=male` a few patients give 5,000 observations,
  // where building the set reads the ids of every male patient first.
  const std::string t = sql_.Alias("t");
  const std::string from_targets = "FROM resource_version " + t + " CROSS JOIN reference_index " + x + " ON " + x +
                                   ".target_id = " + t + ".id AND " + x + ".target_type = " + t + ".type WHERE " + t +
                                   ".seq IN (" + RenderSet(inner.arms, true) + ") AND " + x + ".pk " +
                                   sql_.KeyIs(keys) + " AND " + x + ".target_type " + sql_.TypeIs(targets);
  out.arms.push_back({"", x + ".seq", head + TargetIn(x, inner, targets.size() == 1),
                      head + TargetMatches(x, sql_.Alias("t"), inner), from_targets});
  return out;
}

Result<Compiled> SqlSearch::CompileHas(const Clause& cl, const std::vector<std::string>& types, int depth) {
  if (cl.has_type.empty() || cl.has_param.empty() || cl.chain.size() != 1) {
    return Invalid("_has needs a resource type, a reference parameter and one clause");
  }
  const std::vector<std::string> sources = {cl.has_type};
  EHR_ASSIGN_OR_RETURN(Compiled matched, MatchSet(cl.chain[0], sources, depth + 1));
  EHR_ASSIGN_OR_RETURN(Compiled inner, WithinAccess(std::move(matched), sources));
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys(sources, cl.has_param));
  if (keys.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  Compiled out;
  out.arms.push_back({x + ".target_type", x + ".target_id",
                      "FROM reference_index " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x +
                          ".target_type " + sql_.TypeIs(types) + " AND " + x + ".seq IN (" +
                          RenderSet(inner.arms, true) + ")"});
  out.by_seq = false;
  out.live = false;  // a reference may point to a deleted or missing resource
  return out;
}

// _list: the resources the current version of a List (one of the values) names in
// List.entry.item, through that List's own `item` reference rows. A deleted or missing
// List names nothing; an item may name a resource that does not exist (not live).
Result<Compiled> SqlSearch::CompileList(const Clause& cl, const std::vector<std::string>& types) {
  if (cl.modifier != Modifier::kNone) return Invalid("_list takes no modifier");
  if (cl.values.empty()) return Invalid("_list has no value");
  std::string ids;
  for (const SearchValue& v : cl.values) {
    const auto* t = std::get_if<TokenValue>(&v);
    if (t == nullptr || !t->code) return Invalid("a value of _list is not the id of a List");
    ids += (ids.empty() ? "" : ", ") + sql_.Bind(*t->code);
  }
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> keys, ParamKeys({"List"}, "item"));
  if (keys.empty()) return Constant(false);
  const std::string x = sql_.Alias("x");
  const std::string l = sql_.Alias("l");
  Compiled out;
  out.arms.push_back({x + ".target_type", x + ".target_id",
                      "FROM resource_version " + l + " JOIN reference_index " + x + " ON " + x + ".seq = " + l +
                          ".seq AND " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x + ".target_type " +
                          sql_.TypeIs(types) + " WHERE " + l + ".tenant = ?1 AND " + l + ".type = 'List' AND " + l +
                          ".id IN (" + ids + ") AND " + l + ".is_current = 1 AND " + l + ".deleted = 0"});
  out.by_seq = false;
  out.live = false;
  return out;
}

// Location near (store.h kNearLatitude, kNearLongitude): positions whose great-circle
// distance from the point is at most the value's. A latitude band, and away from the poles
// and the antimeridian a longitude band, narrows on the number rows before the exact
// distance (haversine, on a sphere of the Earth's mean radius) decides.
Result<Compiled> SqlSearch::CompileNear(const Clause& cl, const std::vector<std::string>& types) {
  constexpr double kEarthKm = 6371.0088;
  constexpr double kKmPerDegree = kEarthKm * 3.14159265358979323846 / 180;
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> lat_keys, ParamKeys(types, std::string(kNearLatitude)));
  EHR_ASSIGN_OR_RETURN(std::vector<int64_t> lon_keys, ParamKeys(types, std::string(kNearLongitude)));
  Compiled out;
  for (const SearchValue& v : cl.values) {
    const auto* n = std::get_if<NearValue>(&v);
    if (n == nullptr) return Invalid("a value of 'near' is not a position");
    if (lat_keys.empty() || lon_keys.empty()) continue;
    const std::string x = sql_.Alias("x"), y = sql_.Alias("y");
    const double dlat = n->distance_km / kKmPerDegree;
    std::string where = x + ".pk " + sql_.KeyIs(lat_keys) + " AND " + x + ".value BETWEEN " +
                        sql_.Bind(n->latitude - dlat) + " AND " + sql_.Bind(n->latitude + dlat);
    const double widest = std::max(std::abs(n->latitude - dlat), std::abs(n->latitude + dlat));
    if (widest < 89) {
      const double dlon = dlat / std::cos(widest * 3.14159265358979323846 / 180);
      if (n->longitude - dlon >= -180 && n->longitude + dlon <= 180) {
        where += " AND " + y + ".value BETWEEN " + sql_.Bind(n->longitude - dlon) + " AND " + sql_.Bind(n->longitude + dlon);
      }
    }
    where += " AND 2 * " + sql_.Bind(kEarthKm) + " * asin(min(1, sqrt(power(sin(radians(" + x + ".value - " +
             sql_.Bind(n->latitude) + ") / 2), 2) + cos(radians(" + sql_.Bind(n->latitude) + ")) * cos(radians(" + x +
             ".value)) * power(sin(radians(" + y + ".value - " + sql_.Bind(n->longitude) + ") / 2), 2)))) <= " +
             sql_.Bind(n->distance_km);
    out.arms.push_back({"", x + ".seq",
                        "FROM number_index " + x + " JOIN number_index " + y + " ON " + y + ".seq = " + x +
                            ".seq AND " + y + ".pk " + sql_.KeyIs(lon_keys) + " WHERE " + where});
  }
  if (out.arms.empty()) return Constant(false);
  return out;
}

Result<Compiled> SqlSearch::CompileCompartment(const CompartmentFilter& f, const std::vector<std::string>& types,
                                               const std::string& alias) {
  std::vector<int64_t> keys;
  std::vector<std::string> others;  // types never in such a compartment
  for (const std::string& t : types) {
    bool linked = t == f.type;
    for (const auto& [type, param] : f.links) {
      if (type != t) continue;
      linked = true;
      EHR_ASSIGN_OR_RETURN(std::vector<int64_t> k, ParamKeys({type}, param));
      keys.insert(keys.end(), k.begin(), k.end());
    }
    if (!linked) others.push_back(t);
  }
  if (f.other_types_pass && others.size() == types.size()) return Constant(true);
  std::string id_is;
  if (f.ids.size() <= kMaxBoundIds) {
    std::string ids;
    for (const std::string& id : f.ids) ids += (ids.empty() ? "" : ", ") + sql_.Bind(id);
    id_is = f.ids.size() == 1 ? " = " + ids : " IN (" + ids + ")";
  } else {
    // A long list (a clinician's many patients) is one bound JSON array, not a variable each.
    std::string array = "[";
    for (const std::string& id : f.ids) array += (array.size() > 1 ? "," : "") + JsonString(id);
    id_is = " IN (SELECT value FROM json_each(" + sql_.Bind(array + "]") + "))";
  }
  Compiled set;
  if (!keys.empty() && !f.ids.empty()) {
    const std::string x = sql_.Alias("x");
    set.arms.push_back({"", x + ".seq",
                        "FROM reference_index " + x + " WHERE " + x + ".pk " + sql_.KeyIs(keys) + " AND " + x +
                            ".target_type = " + sql_.Bind(f.type) + " AND " + x + ".target_id" + id_is});
  }
  if (std::find(types.begin(), types.end(), f.type) != types.end() && !f.ids.empty()) {
    const std::string a = sql_.Alias("a");
    set.arms.push_back({"", a + ".seq",
                        "FROM resource_version " + a + " WHERE " + a + ".tenant = ?1 AND " + a + ".type = " +
                            sql_.Bind(f.type) + " AND " + a + ".id" + id_is + " AND " + a + ".is_current = 1 AND " +
                            a + ".deleted = 0"});
  }
  if (!f.other_types_pass || others.empty()) return set.arms.empty() ? Constant(false) : set;
  Compiled out;
  out.condition = "(" + alias + ".type " + sql_.TypeIs(others) +
                  (set.arms.empty() ? "" : " OR " + InSet(alias, set, false)) + ")";
  return out;
}

Result<Compiled> SqlSearch::CompileExclusion(const Exclusion& e, const std::vector<std::string>& types) {
  std::vector<std::string> of;
  for (const std::string& t : types) {
    if (e.types.empty() || std::find(e.types.begin(), e.types.end(), t) != e.types.end()) of.push_back(t);
  }
  if (of.empty() || e.compartment.ids.empty()) return Constant(false);
  CompartmentFilter within = e.compartment;
  within.other_types_pass = false;
  const std::string h = sql_.Alias("h");
  EHR_ASSIGN_OR_RETURN(Compiled in, CompileCompartment(within, of, h));
  if (in.arms.empty()) return Constant(false);
  std::string where = h + ".seq IN (" + RenderSet(in.arms, true) + ")";
  auto labels = [&](const std::vector<TokenValue>& tokens, bool carried) -> Result<bool> {
    Clause cl;
    cl.param = "_security";
    cl.kind = ParamKind::kToken;
    for (const TokenValue& t : tokens) cl.values.push_back(t);
    EHR_ASSIGN_OR_RETURN(Compiled set, CompileIndexed(cl, of));
    if (set.arms.empty()) return !carried;  // nothing carries them: none carried, none to except
    where += " AND " + h + ".seq " + (carried ? "IN (" : "NOT IN (") + RenderSet(set.arms, true) + ")";
    return true;
  };
  if (!e.labels.empty()) {
    EHR_ASSIGN_OR_RETURN(bool any, labels(e.labels, true));
    if (!any) return Constant(false);
  }
  if (!e.except_labels.empty()) EHR_RETURN_IF_ERROR(labels(e.except_labels, false).status());
  auto named = [&](const std::vector<std::pair<std::string, std::string>>& resources) {
    std::string any;
    for (const auto& [type, id] : resources) {
      any += (any.empty() ? "(" : " OR (") + h + ".type = " + sql_.Bind(type) + " AND " + h + ".id = " + sql_.Bind(id) + ")";
    }
    return "(" + any + ")";
  };
  if (!e.resources.empty()) where += " AND " + named(e.resources);
  if (!e.except_resources.empty()) where += " AND NOT " + named(e.except_resources);
  Compiled out;
  out.arms.push_back({"", h + ".seq", "FROM resource_version " + h + " WHERE " + where});
  return out;
}

Result<Compiled> SqlSearch::CompileFilter(const TypeFilter& f, const std::vector<std::string>& types,
                                          const std::string& alias) {
  std::vector<std::string> of;  // the query's types the filter bounds
  for (const std::string& t : types) {
    if (f.Covers(t)) of.push_back(t);
  }
  if (of.empty()) return Constant(true);
  Compiled set;
  for (const std::vector<Clause>& all : f.any_of) {
    const std::string a = sql_.Alias("a");
    std::string where = a + ".tenant = ?1 AND " + a + ".type " + sql_.TypeIs(of) + " AND " + a +
                        ".is_current = 1 AND " + a + ".deleted = 0";
    for (const Clause& cl : all) {
      EHR_ASSIGN_OR_RETURN(Compiled c, MatchSet(cl, of, 1));
      where += " AND " + a + ".seq IN (" + RenderSet(c.arms, true) + ")";
    }
    set.arms.push_back({"", a + ".seq", "FROM resource_version " + a + " WHERE " + where});
  }
  if (of.size() == types.size()) return set.arms.empty() ? Constant(false) : set;
  Compiled out;
  out.condition = "(NOT (" + alias + ".type " + sql_.TypeIs(of) + ") OR " +
                  (set.arms.empty() ? std::string(kNever) : InSet(alias, set, false)) + ")";
  return out;
}

Result<Compiled> SqlSearch::WithinAccess(Compiled set, const std::vector<std::string>& types) {
  const bool filtered = std::any_of(q_.filters.begin(), q_.filters.end(), [&](const TypeFilter& f) {
    return std::any_of(types.begin(), types.end(), [&](const std::string& t) { return f.Covers(t); });
  });
  if (set.arms.empty() || (!q_.access && q_.hidden.empty() && !filtered)) return set;
  const std::string a = sql_.Alias("a");
  std::string where = a + ".seq IN (" + RenderSet(set.arms, true) + ")";
  if (q_.access) {
    EHR_ASSIGN_OR_RETURN(Compiled access, CompileCompartment(*q_.access, types, a));
    if (access.arms.empty() && access.condition == kNever) return Constant(false);
    if (!access.arms.empty() || access.condition != kAlways) {
      where += " AND " + (access.arms.empty() ? access.condition : InSet(a, access, false));
    }
  }
  for (const Exclusion& e : q_.hidden) {
    EHR_ASSIGN_OR_RETURN(Compiled hidden, CompileExclusion(e, types));
    if (!hidden.arms.empty()) where += " AND " + a + ".seq NOT IN (" + RenderSet(hidden.arms, true) + ")";
  }
  for (const TypeFilter& f : q_.filters) {
    EHR_ASSIGN_OR_RETURN(Compiled passing, CompileFilter(f, types, a));
    if (passing.arms.empty() && passing.condition == kAlways) continue;
    where += " AND " + (passing.arms.empty() ? passing.condition : InSet(a, passing, false));
  }
  Compiled out;
  out.arms.push_back({"", a + ".seq", "FROM resource_version " + a + " WHERE " + where});
  return out;
}

Result<Compiled> SqlSearch::Compile(const Clause& cl, const std::vector<std::string>& types, const std::string& alias,
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
    std::string list;
    for (const SearchValue& v : cl.values) {
      const auto* t = std::get_if<TokenValue>(&v);
      if (t == nullptr || !t->code) return Invalid("a value of _id is not an id");
      list += (list.empty() ? "" : ", ") + sql_.Bind(*t->code);
    }
    out.condition = alias + ".id" + (cl.modifier == Modifier::kNot ? " NOT IN (" : " IN (") + list + ")";
    out.by_id = cl.modifier == Modifier::kNone;
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

// The live resources of `types` that match `cl`, as a positive set.
Result<Compiled> SqlSearch::MatchSet(const Clause& cl, const std::vector<std::string>& types, int depth) {
  const std::string a = sql_.Alias("a");
  EHR_ASSIGN_OR_RETURN(Compiled c, Compile(cl, types, a, depth));
  if (!c.arms.empty() && !c.negated && c.live && c.by_seq) return c;
  const std::string cond = c.arms.empty() ? c.condition : InSet(a, c, types.size() == 1);
  Compiled out;
  out.arms.push_back({"", a + ".seq",
                      "FROM resource_version " + a + " WHERE " + a + ".tenant = ?1 AND " + a + ".type " +
                          sql_.TypeIs(types) + " AND " + a + ".is_current = 1 AND " + a + ".deleted = 0 AND " + cond});
  return out;
}

}  // namespace ehr::store::sqlite::internal
