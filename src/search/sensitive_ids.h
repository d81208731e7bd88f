// Sensitive identifiers (national health ids, social security, insurance and identity
// document numbers): which they are, and the blind index that lets an exact search find
// them without their plaintext in any index table.
//
// An identifier is sensitive when its system is one of kSensitiveSystems, or when it has a
// type coding of the HL7 v2 identifier types (table 0203) that IsSensitiveIdentifierType
// names, whatever its system. Its rows in the search index hold a blind value instead of
// the value: a recognisable prefix and the HMAC-SHA-256 of the tenant and the value under
// a key of its own (not the key of the bodies). Equal values give equal blind values, so an
// exact token search still works, by blinding the query value the same way; nothing else
// does (no :text, no prefix or partial match, no _content or _text: the value is taken out
// of the full text). The body of a resource holding one is stored encrypted (NewVersion::
// sensitive).
//
// National ids that src/mpi knows (NHS number, KVNR, NIR, US SSN) are blinded in their
// canonical form when they are valid, so "943 476 5919" and "9434765919" find each other;
// an invalid one is blinded as written. Other systems are blinded as written (FHIR token
// search is exact).
//
// Thread-safe: an IdentifierBlinder is immutable after construction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json/value.h"
#include "fhir/model/model.h"
#include "store/query.h"
#include "store/store.h"

namespace ehr::search {

// The identifier systems that are always sensitive, with where each is defined:
//   https://fhir.nhs.uk/Id/nhs-number          UK NHS number (mpi::NationalIdKind::kNhsNumber)
//   http://fhir.de/sid/gkv/kvid-10             DE statutory insurance KVNR (mpi, kKvnr)
//   http://fhir.de/sid/pkv/kvid-10             DE private insurance KVNR (de.basisprofil)
//   urn:oid:1.2.250.1.213.1.4.8                FR NIR / INS (mpi, kNir)
//   http://hl7.org/fhir/sid/us-ssn             US social security number (mpi, kSsn; R4
//                                              identifier registry, NamingSystem us-ssn)
//   urn:oid:2.16.840.1.113883.4.1              the same, by its OID (C-CDA conversions)
//   http://hl7.org/fhir/sid/us-mbi             US Medicare Beneficiary Identifier (THO
//   urn:oid:2.16.840.1.113883.4.927            NamingSystem cmsMBI), and its OID
//   http://hl7.org/fhir/sid/us-medicare        US Medicare number (R4 identifier registry)
//   http://ns.electronichealth.net.au/id/hi/ihi/1.0     AU Individual Healthcare Identifier
//   http://ns.electronichealth.net.au/id/medicare-number AU Medicare card number (AU Base)
//   https://standards.digital.health.nz/ns/nhi-id       NZ National Health Index
//   http://fhir.nl/fhir/NamingSystem/bsn       NL citizen service number (Nictiz)
//   http://hl7.org/fhir/sid/passport-XXX       passports, XXX the issuing country (mpi/pseudonym.h)
bool IsSensitiveSystem(std::string_view system);

// The identifier type systems: R4's, and the one of earlier FHIR versions.
inline constexpr std::string_view kIdentifierTypeSystem = "http://terminology.hl7.org/CodeSystem/v2-0203";
inline constexpr std::string_view kIdentifierTypeSystemBeforeR4 = "http://hl7.org/fhir/v2/0203";

// A type coding (of an Identifier.type) that makes its identifier sensitive: codes of HL7 v2
// table 0203 for a number that names a person to the state or to an insurer —
//   SS  social security number          SB  social beneficiary identifier
//   NH  national health plan identifier NI  national unique individual identifier
//   NNxxx national person identifier of the country with ISO 3166 alpha-3 code xxx
//   JHN jurisdictional health number    HC  health card number
//   MA  Medicaid number                 MC  Medicare number
//   MB  insurance member number         SN  insurance subscriber number
//   DL  driver's license number         PPN passport number
// DL and PPN name no health or insurance record, but they are government identity numbers
// that breach-notification laws list beside the social security number (California Civil
// Code 1798.82(h), GDPR art. 87 "national identification number"), are used to steal
// identities, and are never searched by part: nothing is lost by blinding them.
// Not sensitive: MR, PI, PT, AN (numbers a provider assigns), and provider and organisation
// identifiers (NPI, DEA, TAX...).
bool IsSensitiveIdentifierType(std::string_view system, std::string_view code);

// Whether `identifier` (an Identifier, or any object with a string `value`) is sensitive:
// a sensitive system, or a sensitive type coding.
bool IsSensitiveIdentifier(const json::Value& identifier);

// Whether a search parameter is a token parameter whose expression selects Identifier
// values (Patient.identifier, ServiceRequest.requisition, Composition.relatesTo.target as
// Identifier, ...), read from the R4 model, once per parameter.
bool IndexesIdentifiers(const fhir::SearchParamDef& def);

// Every blind value starts with this.
inline constexpr std::string_view kBlindPrefix = "blind:";

class IdentifierBlinder {
 public:
  static constexpr size_t kKeyBytes = 32;
  // `key`: kKeyBytes secret bytes (throws std::invalid_argument otherwise: a key of another
  // size is a wiring error, never input).
  explicit IdentifierBlinder(std::string key);
  // A random key for the life of the process (tests; blind rows written with it cannot be
  // found by another process).
  static std::unique_ptr<IdentifierBlinder> WithRandomKey();
  ~IdentifierBlinder();
  IdentifierBlinder(const IdentifierBlinder&) = delete;
  IdentifierBlinder& operator=(const IdentifierBlinder&) = delete;

  // kBlindPrefix + base64url(HMAC-SHA-256(key, tenant || 0x00 || value)).
  std::string Blind(std::string_view tenant, std::string_view value) const;
  // The blind value of an identifier as its rows hold it: of the canonical form of a
  // valid national id of mpi's systems, else of the value as written.
  std::string BlindIdentifier(std::string_view tenant, std::string_view system, std::string_view value) const;

  // Index side: rewrites the rows of `resource` (IndexRows as the indexer made them) so
  // that no sensitive identifier's value is in them: token rows with its system and value
  // (`<param>` and `<reference param>:identifier` rows) hold the blind value as code,
  // `<param>:of-type` rows with its value hold it as text, string rows equal to it are
  // dropped, and it is cut out of the full text (content and narrative, also when written
  // with other separators there). Returns whether the resource holds a sensitive
  // identifier (anywhere: contained resources, references and extensions too).
  bool BlindRows(std::string_view tenant, const json::Value& resource, store::IndexRows& rows) const;

  // Query side: the values a search for `value` looks for, given as a token value (of an
  // identifier parameter or a reference's :identifier) or an :of-type value.
  //   system|value, sensitive system  the blind value only (a row never holds it plain)
  //   system|value, other system      the value and its blind value (a type-coded identifier
  //   |value                          of any system, or none, is blinded)
  //   value                           the value, its blind value, and the blind values of
  //                                   its canonical forms as any mpi national id
  //   :of-type with a sensitive type  the blind values only; with another type the value too
  // Other values (system| without a code, other kinds) are returned as they are.
  std::vector<store::SearchValue> SearchValues(std::string_view tenant, const store::SearchValue& value) const;

 private:
  // Blind values a value written without a system may be stored as.
  std::vector<std::string> AnySystemBlinds(std::string_view tenant, std::string_view value) const;

  std::string key_;
};

}  // namespace ehr::search
