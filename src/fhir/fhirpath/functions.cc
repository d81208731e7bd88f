// The function index, and the functions on collections: existence, filtering and
// projection, subsetting, combining, tree navigation, aggregates, utility.
#include <algorithm>
#include <unordered_map>

#include "fhir/fhirpath/functions_internal.h"
#include "fhir/fhirpath/quantity.h"

namespace ehr::fhirpath {
namespace {

// --- Existence ---

EHR_FHIRPATH_FN(Empty) { return OneBoolean(input.empty()); }

EHR_FHIRPATH_FN(Exists) {
  if (call.arg_count() == 0) return OneBoolean(!input.empty());
  for (size_t i = 0; i < input.size(); ++i) {
    if (ev.AsBoolean(call.arg(0), ev.ArgFor(call, 0, input[i], static_cast<int64_t>(i), scope)) == true) {
      return OneBoolean(true);
    }
  }
  return OneBoolean(false);
}

EHR_FHIRPATH_FN(All) {
  for (size_t i = 0; i < input.size(); ++i) {
    if (ev.AsBoolean(call.arg(0), ev.ArgFor(call, 0, input[i], static_cast<int64_t>(i), scope)) != true) {
      return OneBoolean(false);
    }
  }
  return OneBoolean(true);
}

// allTrue, anyTrue, allFalse, anyFalse over a collection of Booleans.
Collection BooleanAggregate(Evaluator& ev, const Expr& call, const Collection& input, bool want, bool all) {
  for (const Item& item : input) {
    std::optional<Item> s = ToSystem(item);
    if (!s || s->kind() != ItemKind::kBoolean) ev.Fail(call, call.name + "() needs a collection of Booleans");
    if (all && s->boolean() != want) return OneBoolean(false);
    if (!all && s->boolean() == want) return OneBoolean(true);
  }
  return OneBoolean(all);
}
EHR_FHIRPATH_FN(AllTrue) { return BooleanAggregate(ev, call, input, true, true); }
EHR_FHIRPATH_FN(AnyTrue) { return BooleanAggregate(ev, call, input, true, false); }
EHR_FHIRPATH_FN(AllFalse) { return BooleanAggregate(ev, call, input, false, true); }
EHR_FHIRPATH_FN(AnyFalse) { return BooleanAggregate(ev, call, input, false, false); }

EHR_FHIRPATH_FN(SubsetOf) {
  Collection other = ev.Arg(call, 0, scope);
  ev.Steps(input.size() * other.size());
  for (const Item& item : input) {
    if (!Contains(other, item)) return OneBoolean(false);
  }
  return OneBoolean(true);
}

EHR_FHIRPATH_FN(SupersetOf) {
  Collection other = ev.Arg(call, 0, scope);
  ev.Steps(input.size() * other.size());
  for (const Item& item : other) {
    if (!Contains(input, item)) return OneBoolean(false);
  }
  return OneBoolean(true);
}

EHR_FHIRPATH_FN(Count) { return OneItem(Item::Integer(static_cast<int64_t>(input.size()))); }

EHR_FHIRPATH_FN(Distinct) {
  Collection out;
  for (const Item& item : input) {
    ev.Steps(1 + out.size());
    if (!Contains(out, item)) out.push_back(item);
  }
  return out;
}

EHR_FHIRPATH_FN(IsDistinct) { return OneBoolean(Distinct(ev, call, input, scope).size() == input.size()); }

// --- Filtering and projection ---

EHR_FHIRPATH_FN(Where) {
  Collection out;
  for (size_t i = 0; i < input.size(); ++i) {
    if (ev.AsBoolean(call.arg(0), ev.ArgFor(call, 0, input[i], static_cast<int64_t>(i), scope)) == true) {
      out.push_back(input[i]);
    }
  }
  return out;
}

EHR_FHIRPATH_FN(Select) {
  Collection out;
  for (size_t i = 0; i < input.size(); ++i) {
    Collection r = ev.ArgFor(call, 0, input[i], static_cast<int64_t>(i), scope);
    out.insert(out.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
    ev.CheckSize(call, out.size());
  }
  return out;
}

EHR_FHIRPATH_FN(Repeat) {
  Collection out;
  Collection frontier = input;
  while (!frontier.empty()) {
    Collection next;
    for (size_t i = 0; i < frontier.size(); ++i) {
      Collection r = ev.ArgFor(call, 0, frontier[i], static_cast<int64_t>(i), scope);
      for (Item& item : r) {
        ev.Steps(1 + out.size());
        if (Contains(out, item)) continue;
        out.push_back(item);
        next.push_back(std::move(item));
      }
      ev.CheckSize(call, out.size());
    }
    frontier = std::move(next);
  }
  return out;
}

EHR_FHIRPATH_FN(OfType) {
  Collection out;
  for (const Item& item : input) {
    if (MatchesType(item, call.type, true)) out.push_back(item);
  }
  return out;
}

EHR_FHIRPATH_FN(Is) {
  const Item* item = ev.Single(call, input, "is()");
  if (item == nullptr) return {};
  return OneBoolean(MatchesType(*item, call.type));
}

EHR_FHIRPATH_FN(As) {
  const Item* item = ev.Single(call, input, "as()");
  if (item == nullptr || !MatchesType(*item, call.type, true)) return {};
  return OneItem(*item);
}

// --- Subsetting ---

EHR_FHIRPATH_FN(Single) {
  if (input.size() > 1) ev.Fail(call, "single() on a collection of " + std::to_string(input.size()) + " items");
  return input;
}

EHR_FHIRPATH_FN(First) { return input.empty() ? Collection{} : OneItem(input.front()); }
EHR_FHIRPATH_FN(Last) { return input.empty() ? Collection{} : OneItem(input.back()); }
EHR_FHIRPATH_FN(Tail) { return input.empty() ? Collection{} : Collection(input.begin() + 1, input.end()); }

EHR_FHIRPATH_FN(Skip) {
  std::optional<int64_t> n = ev.ArgInteger(call, 0, scope);
  if (!n) return {};
  if (*n <= 0) return input;
  if (static_cast<uint64_t>(*n) >= input.size()) return {};
  return Collection(input.begin() + *n, input.end());
}

EHR_FHIRPATH_FN(Take) {
  std::optional<int64_t> n = ev.ArgInteger(call, 0, scope);
  if (!n || *n <= 0) return {};
  if (static_cast<uint64_t>(*n) >= input.size()) return input;
  return Collection(input.begin(), input.begin() + *n);
}

EHR_FHIRPATH_FN(Intersect) {
  Collection other = ev.Arg(call, 0, scope);
  Collection out;
  for (const Item& item : input) {
    ev.Steps(1 + other.size() + out.size());
    if (Contains(other, item) && !Contains(out, item)) out.push_back(item);
  }
  return out;
}

EHR_FHIRPATH_FN(Exclude) {
  Collection other = ev.Arg(call, 0, scope);
  Collection out;
  for (const Item& item : input) {
    ev.Steps(1 + other.size());
    if (!Contains(other, item)) out.push_back(item);
  }
  return out;
}

// --- Combining ---

EHR_FHIRPATH_FN(Union) {
  Collection other = ev.Arg(call, 0, scope);
  ev.Steps((input.size() + other.size()) * (input.size() + other.size()) / 2);
  Collection out;
  AppendDistinct(out, input);
  AppendDistinct(out, other);
  return out;
}

EHR_FHIRPATH_FN(Combine) {
  Collection out = input;
  Collection other = ev.Arg(call, 0, scope);
  out.insert(out.end(), other.begin(), other.end());
  return out;
}

// --- Tree navigation ---

EHR_FHIRPATH_FN(Children) {
  Collection out;
  for (const Item& item : input) {
    if (item.is_element()) AppendAllChildren(item.element(), out);
  }
  return out;
}

EHR_FHIRPATH_FN(Descendants) {
  // A JSON document is a tree, so a breadth-first walk visits each element once.
  Collection out;
  Collection frontier;
  for (const Item& item : input) {
    if (item.is_element()) AppendAllChildren(item.element(), frontier);
  }
  while (!frontier.empty()) {
    Collection next;
    for (const Item& item : frontier) {
      ev.Step();
      AppendAllChildren(item.element(), next);
    }
    out.insert(out.end(), std::make_move_iterator(frontier.begin()), std::make_move_iterator(frontier.end()));
    ev.CheckSize(call, out.size() + next.size());
    frontier = std::move(next);
  }
  return out;
}

// --- Aggregates and utility ---

EHR_FHIRPATH_FN(Aggregate) {
  Collection total = call.arg_count() > 1 ? ev.Arg(call, 1, scope) : Collection{};
  for (size_t i = 0; i < input.size(); ++i) {
    Collection self;
    self.push_back(input[i]);
    Scope inner{&self, static_cast<int64_t>(i), &total};
    total = ev.Eval(call.arg(0), inner);
  }
  return total;
}

EHR_FHIRPATH_FN(Trace) {
  if (ev.options().trace) {
    std::optional<std::string> name = ev.ArgString(call, 0, scope);
    if (call.arg_count() > 1) {
      Collection projected;
      for (size_t i = 0; i < input.size(); ++i) {
        Collection r = ev.ArgFor(call, 1, input[i], static_cast<int64_t>(i), scope);
        projected.insert(projected.end(), r.begin(), r.end());
      }
      ev.options().trace(name.value_or(""), projected);
    } else {
      ev.options().trace(name.value_or(""), input);
    }
  }
  return input;
}

EHR_FHIRPATH_FN(Now) { return OneItem(Item::Time(ev.Now())); }

EHR_FHIRPATH_FN(Today) {
  Temporal t = ev.Now();
  t.kind = TemporalKind::kDate;
  t.precision = TemporalPrecision::kDay;
  t.hour = t.minute = t.second = 0;
  t.millisecond = 0;
  t.has_offset = false;
  t.offset_minutes = 0;
  return OneItem(Item::Time(t));
}

EHR_FHIRPATH_FN(TimeOfDay) {
  Temporal t = ev.Now();
  t.kind = TemporalKind::kTime;
  t.year = 0;
  t.month = t.day = 1;
  t.has_offset = false;
  t.offset_minutes = 0;
  return OneItem(Item::Time(t));
}

EHR_FHIRPATH_FN(Not) {
  std::optional<bool> b = ev.AsBoolean(call, input);
  if (!b) return {};
  return OneBoolean(!*b);
}

// sort(key, ...): ascending by each key in turn; a key written `-expr` sorts descending.
EHR_FHIRPATH_FN(Sort) {
  struct Key {
    const Expr* expr;
    bool descending;
  };
  std::vector<Key> keys;
  for (size_t k = 0; k < call.arg_count(); ++k) {
    const Expr& e = call.arg(k);
    if (e.kind == ExprKind::kUnary && e.op == BinaryOp::kMinus) {
      keys.push_back({e.args[0].get(), true});
    } else {
      keys.push_back({&e, false});
    }
  }
  std::vector<std::vector<Collection>> values(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    Collection self;
    self.push_back(input[i]);
    Scope inner{&self, static_cast<int64_t>(i), scope.total};
    for (const Key& key : keys) values[i].push_back(ev.Eval(*key.expr, inner));
  }
  auto compare = [&](const Collection& a, const Collection& b, const Expr& at) -> int {
    if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : a.empty() ? -1 : 1;
    std::string error;
    std::optional<int> c = CompareItems(a[0], b[0], &error);
    if (!error.empty()) ev.Fail(at, error);
    return c.value_or(0);
  };
  std::vector<size_t> order(input.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    for (size_t k = 0; k < keys.size(); ++k) {
      const Collection& a = values[x][k];
      const Collection& b = values[y][k];
      // Items without a key come first whatever the direction (the suite's testSort10).
      if (a.empty() != b.empty()) return a.empty();
      int c = compare(a, b, *keys[k].expr);
      if (c != 0) return keys[k].descending ? c > 0 : c < 0;
    }
    if (keys.empty()) {
      Collection a{input[x]};
      Collection b{input[y]};
      return compare(a, b, call) < 0;
    }
    return false;
  });
  Collection out;
  out.reserve(input.size());
  for (size_t i : order) out.push_back(input[i]);
  return out;
}

constexpr FunctionDef kCore[] = {
    {"empty", 0, 0, Empty},
    {"exists", 0, 1, Exists},
    {"all", 1, 1, All},
    {"allTrue", 0, 0, AllTrue},
    {"anyTrue", 0, 0, AnyTrue},
    {"allFalse", 0, 0, AllFalse},
    {"anyFalse", 0, 0, AnyFalse},
    {"subsetOf", 1, 1, SubsetOf},
    {"supersetOf", 1, 1, SupersetOf},
    {"count", 0, 0, Count},
    {"distinct", 0, 0, Distinct},
    {"isDistinct", 0, 0, IsDistinct},
    {"where", 1, 1, Where},
    {"select", 1, 1, Select},
    {"repeat", 1, 1, Repeat},
    {"ofType", 1, 1, OfType, true},
    {"is", 1, 1, Is, true},
    {"as", 1, 1, As, true},
    {"single", 0, 0, Single},
    {"first", 0, 0, First},
    {"last", 0, 0, Last},
    {"tail", 0, 0, Tail},
    {"skip", 1, 1, Skip},
    {"take", 1, 1, Take},
    {"intersect", 1, 1, Intersect},
    {"exclude", 1, 1, Exclude},
    {"union", 1, 1, Union},
    {"combine", 1, 1, Combine},
    {"children", 0, 0, Children},
    {"descendants", 0, 0, Descendants},
    {"aggregate", 1, 2, Aggregate},
    {"trace", 1, 2, Trace},
    {"now", 0, 0, Now},
    {"today", 0, 0, Today},
    {"timeOfDay", 0, 0, TimeOfDay},
    {"not", 0, 0, Not},
    {"sort", 0, 8, Sort},
};

}  // namespace

std::span<const FunctionDef> CoreFunctions() { return kCore; }

const FunctionDef* FindFunction(std::string_view name) {
  static const auto* index = [] {
    auto* map = new std::unordered_map<std::string_view, const FunctionDef*>();
    for (auto table : {CoreFunctions(), StringFunctions(), ConvertFunctions(), MathFunctions(), FhirFunctions()}) {
      for (const FunctionDef& f : table) map->emplace(f.name, &f);
    }
    return map;
  }();
  auto it = index->find(name);
  return it == index->end() ? nullptr : it->second;
}

}  // namespace ehr::fhirpath
