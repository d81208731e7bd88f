#include "api/search_access.h"

#include <algorithm>

#include "fhir/model/model.h"

namespace ehr::api {
namespace {

void AddType(std::vector<std::string>& out, std::string type) {
  if (std::find(out.begin(), out.end(), type) == out.end()) out.push_back(std::move(type));
}

// The types a reference parameter `param` of `sources` can point to.
std::vector<std::string> TargetsOf(const std::vector<std::string>& sources, const std::string& param) {
  std::vector<std::string> out;
  for (const std::string& source : sources) {
    const fhir::SearchParamDef* def = source == "*" ? nullptr : fhir::FindSearchParam(source, param);
    if (def == nullptr || def->targets.empty()) return {"*"};
    for (std::string_view t : def->targets) AddType(out, std::string(t));
  }
  return out;
}

void Collect(const std::vector<store::Clause>& clauses, const std::vector<std::string>& sources,
             std::vector<std::string>& out) {
  for (const store::Clause& c : clauses) {
    if (!c.has_type.empty()) {
      AddType(out, c.has_type);
      Collect(c.chain, {c.has_type}, out);
    } else if (!c.chain.empty()) {
      std::vector<std::string> targets = c.type.empty() ? TargetsOf(sources, c.param) : std::vector{c.type};
      for (const auto& t : targets) AddType(out, t);
      Collect(c.chain, targets, out);
    }
  }
}

}  // namespace

std::vector<std::string> TypesTestedBy(const store::SearchQuery& q) {
  std::vector<std::string> out;
  Collect(q.clauses, q.types.empty() ? std::vector<std::string>{"*"} : q.types, out);
  return out;
}

security::Action SearchAction(const store::SearchQuery& q) {
  security::Action a;
  a.interaction = q.types.size() == 1 ? "search-type" : "search-system";
  if (!q.types.empty()) a.resource_type = q.types.front();
  for (size_t i = 1; i < q.types.size(); ++i) a.also_reads.push_back(q.types[i]);
  if (q.compartment && q.compartment->type == "Patient") a.compartment_patient = q.compartment->ids.at(0);
  for (std::string& t : TypesTestedBy(q)) AddType(a.also_reads, std::move(t));
  return a;
}

}  // namespace ehr::api
