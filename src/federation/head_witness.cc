#include "federation/head_witness.h"

#include "audit/log.h"
#include "fhir/json/value.h"
#include "mpi/witness_wire.h"

namespace ehr::federation {
namespace {

std::vector<std::pair<std::string, std::string>> Headers(const WitnessOptions& options,
                                                         const security::NodeSigner& signer, Clock& clock) {
  security::NodeClaims claims;
  claims.audience = options.mpi_node;
  return {{"Authorization", signer.Authorization(claims, clock.Now())},
          {"Content-Type", "application/json"}};
}

std::string Url(const WitnessOptions& options) { return options.mpi_url + "/mpi/witness/" + options.node; }

}  // namespace

Result<WitnessView> AskWitness(const WitnessOptions& options, const security::NodeSigner& signer, Clock& clock) {
  EHR_ASSIGN_OR_RETURN(net::HttpReply reply, net::HttpCall("GET", Url(options), Headers(options, signer, clock), {},
                                                           options.call));
  if (reply.status != 200 && reply.status != 404) {
    return Status::Unavailable("the witness answered HTTP " + std::to_string(reply.status));
  }
  WitnessView view;
  Result<json::Value> body = json::Parse(reply.body);
  const json::Value* refusals = body.ok() && body->is_object() ? body->Find("refusals") : nullptr;
  if (refusals == nullptr || !refusals->as_int64()) return Status::Unavailable("the witness's answer is not readable");
  view.refusals = *refusals->as_int64();
  if (const json::Value* resets = body->Find("resets"); resets != nullptr && resets->is_array()) {
    for (const json::Value& at : resets->as_array()) {
      if (at.is_string()) view.resets.emplace_back(at.as_string());
    }
  }
  if (reply.status == 200) {
    Result<audit::WitnessedHead> head = mpi::ParseWitnessedHead(reply.body);
    if (!head.ok()) return Status::Unavailable("the witness's head is not readable: " + head.status().message());
    view.head = std::move(*head);
  }
  return view;
}

HeadWitness::HeadWitness(store::Store& store, std::string public_key, const security::NodeSigner& signer,
                         Clock& clock, WitnessOptions options)
    : store_(store), public_key_(std::move(public_key)), signer_(signer), clock_(clock), options_(std::move(options)) {}

Status HeadWitness::RunOnce() {
  EHR_ASSIGN_OR_RETURN(std::optional<store::AuditHead> newest, store_.LatestAuditHead());
  if (!newest || newest->size == 0) return Status::Ok();
  if (!held_) {
    EHR_ASSIGN_OR_RETURN(WitnessView view, AskWitness(options_, signer_, clock_));
    held_ = view.head ? view.head->head.size : 0;
    witnessed_size_ = *held_;
  }
  if (*held_ == newest->size) return Status::Ok();
  mpi::WitnessSubmission s;
  s.head.head = audit::TreeHead{newest->size, newest->root, newest->timestamp_ms, newest->signature};
  s.head.public_key = public_key_;
  s.first = *held_;  // larger than the log when it was rolled back: the witness refuses that
  if (s.first > 0 && s.first < newest->size) {
    Status missing;
    s.consistency = audit::ConsistencyProof(s.first, newest->size, audit::StoredNodes(store_, missing));
    EHR_RETURN_IF_ERROR(missing);
  }
  EHR_ASSIGN_OR_RETURN(net::HttpReply reply, net::HttpCall("PUT", Url(options_), Headers(options_, signer_, clock_),
                                                           mpi::WriteWitnessSubmission(s), options_.call));
  if (reply.status == 200) {
    held_ = newest->size;
    witnessed_size_ = newest->size;
    return Status::Ok();
  }
  held_.reset();  // ask again next time
  Result<json::Value> body = json::Parse(reply.body);
  const std::string why = body.ok() && body->is_object() ? std::string(body->GetString("error")) : "";
  if (reply.status == 409) return Status::Conflict("the witness refused the head of " + std::to_string(newest->size) +
                                                   " entries: " + why);
  return Status::Unavailable("the witness answered HTTP " + std::to_string(reply.status) + (why.empty() ? "" : ": " + why));
}

}  // namespace ehr::federation
