#include "audit/entry.h"

#include "core/base64.h"
#include "core/log.h"
#include "core/secrets.h"

namespace ehr::audit {
namespace {

constexpr size_t kSaltBytes = 16;

// A fresh random salt. One RAND_bytes call cost as much as a third of an entry's encoding
// (perf, audited reads: 2.5 of ~9 us), so each thread fetches salts 64 at a time and hands
// out every byte once. (The process never forks, which would hand a block out twice.)
std::string FreshSalt() {
  constexpr size_t kBlock = 64 * kSaltBytes;
  thread_local std::string block;
  thread_local size_t used = kBlock;
  if (used == kBlock) {
    block = RandomBytes(kBlock);
    used = 0;
  }
  std::string salt = block.substr(used, kSaltBytes);
  used += kSaltBytes;
  return salt;
}

json::Value Coding(const char* system, std::string code, std::string display = {}) {
  json::Value c = json::Value::MakeObject();
  c.Set("system", json::Value(system));
  c.Set("code", json::Value(std::move(code)));
  if (!display.empty()) c.Set("display", json::Value(std::move(display)));
  return c;
}

json::Value Concept(json::Value coding) {
  json::Value cc = json::Value::MakeObject();
  json::Value codings = json::Value::MakeArray();
  codings.as_array().push_back(std::move(coding));
  cc.Set("coding", std::move(codings));
  return cc;
}

json::Value Reference(std::string ref) {
  json::Value r = json::Value::MakeObject();
  r.Set("reference", json::Value(std::move(ref)));
  return r;
}

json::Value IdentifierReference(const char* system, std::string value) {
  json::Value id = json::Value::MakeObject();
  if (system != nullptr) id.Set("system", json::Value(system));
  id.Set("value", json::Value(std::move(value)));
  json::Value r = json::Value::MakeObject();
  r.Set("identifier", std::move(id));
  return r;
}

// An entry's part as compact JSON, members in the order written: the bytes json::Write
// gives for the same json::Value, without building one (that was half of an audited read's
// encoding: callgrind, 23k of 42k instructions). Keys are ASCII names, never escaped.
class CompactObject {
 public:
  explicit CompactObject(size_t reserve) {
    out_.reserve(reserve);
    out_ += '{';
  }
  CompactObject& Str(std::string_view key, std::string_view value) {
    Key(key);
    Quoted(value);
    return *this;
  }
  // Left out when empty: entries written before the member existed keep their bytes.
  CompactObject& StrIfAny(std::string_view key, std::string_view value) {
    return value.empty() ? *this : Str(key, value);
  }
  CompactObject& Int(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  CompactObject& Strs(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    out_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out_ += ',';
      Quoted(values[i]);
    }
    out_ += ']';
    return *this;
  }
  std::string Close() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void Key(std::string_view key) {
    if (out_.size() > 1) out_ += ',';
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  void Quoted(std::string_view value) {
    out_ += '"';
    log::AppendJsonEscaped(out_, value);
    out_ += '"';
  }
  std::string out_;
};

Status Invalid(std::string what) { return Status::Invalid("audit entry: " + std::move(what)); }

Result<std::string> StringAt(const json::Value& o, std::string_view key) {
  const json::Value* v = o.Find(key);
  if (v == nullptr || !v->is_string()) return Invalid(std::string(key) + " is missing");
  return v->as_string();
}

Result<std::vector<std::string>> StringsAt(const json::Value& o, std::string_view key) {
  const json::Value* v = o.Find(key);
  if (v == nullptr || !v->is_array()) return Invalid(std::string(key) + " is missing");
  std::vector<std::string> out;
  for (const json::Value& s : v->as_array()) {
    if (!s.is_string()) return Invalid(std::string(key) + " holds a non-string");
    out.push_back(s.as_string());
  }
  return out;
}

Result<int64_t> IntAt(const json::Value& o, std::string_view key) {
  const json::Value* v = o.Find(key);
  std::optional<int64_t> i = v != nullptr && v->is_number() ? v->as_int64() : std::nullopt;
  if (!i) return Invalid(std::string(key) + " is missing");
  return *i;
}

const char* kDcm = "http://dicom.nema.org/resources/ontology/DCM";

// AuditEvent.type and subtype of an event (BALP: rest + the interaction; DICOM codes for
// user authentication and security alerts).
void SetTypes(json::Value& ae, const Event& e) {
  json::Value subtypes = json::Value::MakeArray();
  if (e.type == "rest") {
    ae.Set("type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
    subtypes.as_array().push_back(Coding("http://hl7.org/fhir/restful-interaction", e.subtype));
  } else if (e.type == "login" || e.type == "logout") {
    ae.Set("type", Coding(kDcm, "110114", "User Authentication"));
    subtypes.as_array().push_back(
        e.type == "login" ? Coding(kDcm, "110122", "Login") : Coding(kDcm, "110123", "Logout"));
  } else {
    ae.Set("type", Coding(kDcm, "110113", "Security Alert"));
    subtypes.as_array().push_back(Coding("urn:ehr:audit-subtype", e.subtype));
  }
  ae.Set("subtype", std::move(subtypes));
}

}  // namespace

Encoded Encode(const Event& e, std::string salt) {
  if (salt.empty()) salt = FreshSalt();
  Encoded out;
  out.detail = CompactObject(256)
                   .Str("salt", HexEncode(salt))
                   .Str("patient", e.patient)
                   .Strs("entities", e.entities)
                   .Str("query", e.query)
                   .Str("fhirUser", e.fhir_user)
                   .Close();
  out.core = CompactObject(384)
                 .Int("v", 1)
                 .Str("type", e.type)
                 .Str("subtype", e.subtype)
                 .Str("action", e.action)
                 .Int("outcome", e.outcome)
                 .Str("outcomeText", e.outcome_text)
                 .Int("recorded", e.recorded)
                 .Str("tenant", e.tenant)
                 .Str("user", e.user)
                 .Strs("roles", e.roles)
                 .Str("client", e.client_id)
                 .Str("purpose", e.purpose)
                 .Str("address", e.address)
                 .StrIfAny("certificate", e.certificate)
                 .Str("request", e.request_id)
                 .Str("server", e.server)
                 .Str("detail", HexEncode(Sha256(out.detail)))
                 .Close();
  return out;
}

Result<Event> Decode(std::string_view core_text, const std::optional<std::string>& detail_text) {
  auto core = json::Parse(core_text);
  if (!core.ok() || !core->is_object()) return Invalid("the core is not a JSON object");
  EHR_ASSIGN_OR_RETURN(int64_t version, IntAt(*core, "v"));
  if (version != 1) return Invalid("unknown version " + std::to_string(version));
  Event e;
  EHR_ASSIGN_OR_RETURN(e.type, StringAt(*core, "type"));
  EHR_ASSIGN_OR_RETURN(e.subtype, StringAt(*core, "subtype"));
  EHR_ASSIGN_OR_RETURN(e.action, StringAt(*core, "action"));
  EHR_ASSIGN_OR_RETURN(int64_t outcome, IntAt(*core, "outcome"));
  e.outcome = static_cast<int>(outcome);
  EHR_ASSIGN_OR_RETURN(e.outcome_text, StringAt(*core, "outcomeText"));
  EHR_ASSIGN_OR_RETURN(e.recorded, IntAt(*core, "recorded"));
  EHR_ASSIGN_OR_RETURN(e.tenant, StringAt(*core, "tenant"));
  EHR_ASSIGN_OR_RETURN(e.user, StringAt(*core, "user"));
  EHR_ASSIGN_OR_RETURN(e.roles, StringsAt(*core, "roles"));
  EHR_ASSIGN_OR_RETURN(e.client_id, StringAt(*core, "client"));
  EHR_ASSIGN_OR_RETURN(e.purpose, StringAt(*core, "purpose"));
  EHR_ASSIGN_OR_RETURN(e.address, StringAt(*core, "address"));
  if (const json::Value* certificate = core->Find("certificate"); certificate != nullptr) {
    if (!certificate->is_string() || certificate->as_string().empty()) return Invalid("certificate is not a digest");
    e.certificate = certificate->as_string();
  }
  EHR_ASSIGN_OR_RETURN(e.request_id, StringAt(*core, "request"));
  EHR_ASSIGN_OR_RETURN(e.server, StringAt(*core, "server"));
  EHR_ASSIGN_OR_RETURN(std::string digest, StringAt(*core, "detail"));
  if (!detail_text) return e;
  if (HexEncode(Sha256(*detail_text)) != digest) return Invalid("the detail is not the one the core commits to");
  auto detail = json::Parse(*detail_text);
  if (!detail.ok() || !detail->is_object()) return Invalid("the detail is not a JSON object");
  EHR_ASSIGN_OR_RETURN(e.patient, StringAt(*detail, "patient"));
  EHR_ASSIGN_OR_RETURN(e.entities, StringsAt(*detail, "entities"));
  EHR_ASSIGN_OR_RETURN(e.query, StringAt(*detail, "query"));
  EHR_ASSIGN_OR_RETURN(e.fhir_user, StringAt(*detail, "fhirUser"));
  return e;
}

json::Value ToAuditEvent(const Event& e, uint64_t index, bool erased) {
  json::Value ae = json::Value::MakeObject();
  ae.Set("resourceType", json::Value("AuditEvent"));
  ae.Set("id", json::Value(std::to_string(index)));
  json::Value meta = json::Value::MakeObject();
  meta.Set("lastUpdated", json::Value(FormatInstant(e.recorded)));
  ae.Set("meta", std::move(meta));
  SetTypes(ae, e);
  ae.Set("action", json::Value(e.action));
  ae.Set("recorded", json::Value(FormatInstant(e.recorded)));
  ae.Set("outcome", json::Value(std::to_string(e.outcome)));
  if (!e.outcome_text.empty()) ae.Set("outcomeDesc", json::Value(e.outcome_text));
  json::Value purposes = json::Value::MakeArray();
  if (!e.purpose.empty()) {
    purposes.as_array().push_back(Concept(Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", e.purpose)));
    ae.Set("purposeOfEvent", purposes);
  }

  json::Value agents = json::Value::MakeArray();
  {  // the user (BALP: the requestor)
    json::Value user = json::Value::MakeObject();
    user.Set("type", Concept(Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP",
                                    "information recipient")));
    if (!e.roles.empty()) {
      json::Value roles = json::Value::MakeArray();
      for (const std::string& r : e.roles) {
        json::Value cc = json::Value::MakeObject();
        cc.Set("text", json::Value(r));
        roles.as_array().push_back(std::move(cc));
      }
      user.Set("role", std::move(roles));
    }
    json::Value who = e.fhir_user.empty() ? IdentifierReference("urn:ehr:account", e.user.empty() ? "anonymous" : e.user)
                                          : Reference(e.fhir_user);
    if (!e.fhir_user.empty()) {
      json::Value id = json::Value::MakeObject();
      id.Set("system", json::Value("urn:ehr:account"));
      id.Set("value", json::Value(e.user));
      who.Set("identifier", std::move(id));
    }
    user.Set("who", std::move(who));
    user.Set("requestor", json::Value(true));
    if (!e.purpose.empty()) user.Set("purposeOfUse", purposes);
    agents.as_array().push_back(std::move(user));
  }
  {  // the client: the app, at its network address
    json::Value client = json::Value::MakeObject();
    client.Set("type", Concept(Coding(kDcm, "110153", "Source Role ID")));
    client.Set("who", IdentifierReference("urn:ehr:client", e.client_id.empty() ? "direct" : e.client_id));
    client.Set("requestor", json::Value(false));
    if (!e.certificate.empty()) {  // the machine, by its mutual-TLS certificate
      json::Value who = client.Find("who") != nullptr ? *client.Find("who") : json::Value::MakeObject();
      json::Value display = json::Value("TLS client certificate " + e.certificate);
      who.Set("display", std::move(display));
      client.Set("who", std::move(who));
    }
    if (!e.address.empty()) {
      json::Value network = json::Value::MakeObject();
      network.Set("address", json::Value(e.address));
      network.Set("type", json::Value("2"));
      client.Set("network", std::move(network));
    }
    agents.as_array().push_back(std::move(client));
  }
  {  // the server that recorded it
    json::Value server = json::Value::MakeObject();
    server.Set("type", Concept(Coding(kDcm, "110152", "Destination Role ID")));
    json::Value who = json::Value::MakeObject();
    who.Set("display", json::Value(e.server.empty() ? std::string("ehr") : "ehr " + e.server));
    server.Set("who", std::move(who));
    server.Set("requestor", json::Value(false));
    agents.as_array().push_back(std::move(server));
  }
  ae.Set("agent", std::move(agents));

  json::Value source = json::Value::MakeObject();
  if (!e.server.empty()) source.Set("site", json::Value(e.server));
  json::Value observer = json::Value::MakeObject();
  observer.Set("display", json::Value(e.server.empty() ? std::string("ehr") : "ehr " + e.server));
  source.Set("observer", std::move(observer));
  json::Value source_types = json::Value::MakeArray();
  source_types.as_array().push_back(
      Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server"));
  source.Set("type", std::move(source_types));
  ae.Set("source", std::move(source));

  const char* kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
  const char* kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
  json::Value entities = json::Value::MakeArray();
  auto entity = [&](json::Value what, const char* type, const char* role) {
    json::Value en = json::Value::MakeObject();
    if (!what.is_null()) en.Set("what", std::move(what));
    en.Set("type", Coding(kEntityType, type));
    if (role != nullptr) en.Set("role", Coding(kObjectRole, role));
    return en;
  };
  if (!e.patient.empty()) entities.as_array().push_back(entity(Reference("Patient/" + e.patient), "1", "1"));
  for (const std::string& ref : e.entities) entities.as_array().push_back(entity(Reference(ref), "2", "4"));
  if (!e.query.empty()) {
    json::Value q = entity(json::Value(), "2", "24");
    q.Set("query", json::Value(Base64Encode(e.query)));
    entities.as_array().push_back(std::move(q));
  }
  if (erased) {
    json::Value gone = entity(json::Value(), "2", nullptr);
    gone.Set("description", json::Value("erased: the personal part of this entry was removed on request"));
    entities.as_array().push_back(std::move(gone));
  }
  if (!e.request_id.empty()) {
    json::Value request = json::Value::MakeObject();
    request.Set("what", IdentifierReference(nullptr, e.request_id));
    request.Set("type", Coding("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "XrequestId"));
    entities.as_array().push_back(std::move(request));
  }
  if (!entities.as_array().empty()) ae.Set("entity", std::move(entities));
  return ae;
}

}  // namespace ehr::audit
