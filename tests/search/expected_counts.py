#!/usr/bin/env python3
"""Expected results of FHIR searches over a Synthea sample, computed without the server.

Each query below is answered by plain Python over the raw transaction Bundles (no FHIR
search engine, no FHIRPath): the search tests load the same files into a real server and
compare. Writes tests/search/expected_counts.json; run it again after changing the queries:

    python3 tests/search/expected_counts.py ../shared/data/synthea > tests/search/expected_counts.json

Synthea references are urn:uuid:<id of the target in its Bundle>; the server gives new ids,
so queries about one patient name it by its Synthea identifier.
"""
import bz2
import datetime as dt
import glob
import html
import json
import os
import re
import sys
import unicodedata

SAMPLE_PATIENT_FILES = 20  # plus the two 0-* files (hospitals, practitioners) loaded first
SYNTHEA_ID_SYSTEM = "https://github.com/synthetichealth/synthea"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def load(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.json.bz2")))
    info = [f for f in files if os.path.basename(f).startswith("0-")]
    patients = [f for f in files if not os.path.basename(f).startswith("0-")][:SAMPLE_PATIENT_FILES]
    resources = []  # (file index, resource)
    for i, f in enumerate(info + patients):
        with bz2.open(f, "rt") as fh:
            for entry in json.load(fh)["entry"]:
                resources.append((i, entry["resource"]))
    return [os.path.basename(f) for f in info + patients], resources


V3_ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
BODY_SIZE_VS = "http://example.org/fhir/ValueSet/body-size"
VITALS_VS = "http://example.org/fhir/ValueSet/vitals"
AMBULATORY_VS = "http://example.org/fhir/ValueSet/ambulatory"
STOPPED_VS = "http://example.org/fhir/ValueSet/stopped"
MANY_VS = "http://example.org/fhir/ValueSet/many-loinc"  # large enough for the store's listed form
SNOMED = "http://snomed.info/sct"
# A fragment of SNOMED CT's is-a hierarchy for token :below / :above.
SNOMED_FRAGMENT = [("64572001", [("73211009", [("44054006", [])]), ("38341003", []), ("444814009", [])])]


def fragment_concepts(nodes):
    return [dict({"code": code}, **({"concept": fragment_concepts(kids)} if kids else {})) for code, kids in nodes]


def below(nodes, code, inside=False):
    out = set()
    for c, kids in nodes:
        if inside or c == code:
            out.add(c)
        out |= below(kids, code, inside or c == code)
    return out


def above(nodes, code, path=()):
    out = set()
    for c, kids in nodes:
        if c == code:
            out |= set(path) | {c}
        out |= above(kids, code, path + (c,))
    return out


# ValueSets (and a CodeSystem) the search test POSTs before asking the :in / :not-in /
# :below / :above queries.
TERMINOLOGY = [
    {"resourceType": "CodeSystem", "url": SNOMED, "status": "active", "content": "fragment",
     "hierarchyMeaning": "is-a", "concept": fragment_concepts(SNOMED_FRAGMENT)},
    {"resourceType": "ValueSet", "url": BODY_SIZE_VS, "status": "active",
     "compose": {"include": [{"system": "http://loinc.org",
                              "concept": [{"code": "8302-2"}, {"code": "29463-7"}, {"code": "39156-5"}]}]}},
    # Version 1 is a decoy: the query names version 2, the set above with blood glucose and
    # without body weight (an exclude applies to what included value sets bring too).
    {"resourceType": "ValueSet", "url": VITALS_VS, "version": "1", "status": "retired",
     "compose": {"include": [{"system": "http://loinc.org", "concept": [{"code": "72166-2"}]}]}},
    {"resourceType": "ValueSet", "url": VITALS_VS, "version": "2", "status": "active",
     "compose": {"include": [{"valueSet": [BODY_SIZE_VS]},
                             {"system": "http://loinc.org", "concept": [{"code": "2339-0"}]}],
                 "exclude": [{"system": "http://loinc.org", "concept": [{"code": "29463-7"}]}]}},
    {"resourceType": "ValueSet", "url": AMBULATORY_VS, "status": "active",
     "compose": {"include": [{"system": V3_ACTCODE, "concept": [{"code": "AMB"}]}]}},
    {"resourceType": "ValueSet", "url": MANY_VS, "status": "active",
     "compose": {"include": [{"system": "http://loinc.org", "concept": [{"code": c} for c in
                              ["8302-2", "29463-7", "39156-5"] + ["99999-%d" % i for i in range(200)]]}]}},
    # Pre-expanded: the expansion is used as it stands.
    {"resourceType": "ValueSet", "url": STOPPED_VS, "status": "active",
     "expansion": {"timestamp": "2026-01-01T00:00:00Z", "contains": [
         {"system": "http://hl7.org/fhir/CodeSystem/medicationrequest-status", "code": "stopped"},
         {"system": "http://hl7.org/fhir/CodeSystem/medicationrequest-status", "code": "completed"}]}},
]


def km_between(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    import math
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1, math.sqrt(a)))


def near(locations, lat, lon, km):
    return [l for l in locations if "position" in l
            and km_between(lat, lon, l["position"]["latitude"], l["position"]["longitude"]) <= km]


def norm(s):
    s = unicodedata.normalize("NFKD", s.casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(s.split())


def of_type(resources, t):
    return [r for _, r in resources if r["resourceType"] == t]


def codings(cc):
    return (cc or {}).get("coding", [])


def has_code(cc, system, code):
    return any((system is None or c.get("system") == system) and c.get("code") == code for c in codings(cc))


def quantity_items(observation, combo, component):
    """(code, valueQuantity value) of the items a composite looks at: the Observation, its
    components, or both."""
    items = ([observation] if combo or not component else []) + (observation.get("component", []) if component else [])
    return [(i["code"], i["valueQuantity"]["value"]) for i in items if "valueQuantity" in i]


def strip_markup(xhtml):
    """A narrative's text: tags as spaces, character references decoded (as the server does)."""
    return html.unescape(re.sub(r"<[^>]*>", " ", xhtml))


def content_strings(value, key=None):
    """Every string of a resource in document order, the narrative without markup; base64
    data and resourceType left out (what the server indexes for _content)."""
    if isinstance(value, str):
        if value:
            yield strip_markup(value) if key == "div" else value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in ("data", "resourceType"):
                yield from content_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from content_strings(v, key)


def words(text):
    """The words of SQLite FTS5's unicode61 tokenizer (remove_diacritics 2): runs of letters,
    digits and private-use characters, case and accents folded."""
    out, word = [], []
    for ch in text + " ":
        if unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Co":
            word.append(ch)
        elif word:
            folded = unicodedata.normalize("NFKD", "".join(word).casefold())
            out.append("".join(c for c in folded if not unicodedata.combining(c)))
            word = []
    return out


def text_matches(text, query):
    """The server's _text/_content syntax over one text: words AND-ed, "phrases", OR."""
    have = words(text)
    def has(phrase):
        w = words(phrase)
        return any(have[i:i + len(w)] == w for i in range(len(have) - len(w) + 1))
    groups = [[]]
    for quoted, bare in re.findall(r'"([^"]*)"?|(\S+)', query):
        if bare == "OR":
            groups.append([])
        elif bare != "AND":
            groups[-1].append(quoted or bare)
    return any(g and all(has(p) for p in g) for g in groups)


def narrative(resource):
    return strip_markup(resource.get("text", {}).get("div", ""))


def content(resource):
    """meta first, without what the server writes (id, versionId, lastUpdated): see full_text.h."""
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    rest = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    return "\n".join(list(content_strings(meta)) + list(content_strings(rest)))


def instant_utc(text):
    """A FHIR dateTime with time and offset as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def utc(y, m, d):
    return dt.datetime(y, m, d, tzinfo=dt.timezone.utc)


def name_parts(patient):
    for n in patient.get("name", []):
        yield from n.get("given", [])
        yield from n.get("prefix", [])
        yield from n.get("suffix", [])
        if "family" in n:
            yield n["family"]
        if "text" in n:
            yield n["text"]


def synthea_id(patient):
    for i in patient.get("identifier", []):
        if i.get("system") == SYNTHEA_ID_SYSTEM:
            return i["value"]
    return None


def references(value):
    """Every Reference.reference string anywhere in a resource."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from references(v)
    elif isinstance(value, list):
        for v in value:
            yield from references(v)


def patient_compartment_types(definitions):
    """Resource types of the R4 patient CompartmentDefinition with at least one link, and Patient."""
    with open(os.path.join(definitions, "compartmentdefinition-patient.json")) as fh:
        d = json.load(fh)
    return {r["code"] for r in d["resource"] if r.get("param")} | {"Patient"}


def resolver(resources):
    """Finds the target of a Synthea reference: urn:uuid:<id> or Type?identifier=system|value."""
    by_id = {r["id"]: r for _, r in resources if "id" in r}
    by_ident = {}
    for _, r in resources:
        for ident in r.get("identifier", []):
            by_ident[(r["resourceType"], ident.get("system", "") + "|" + ident.get("value", ""))] = r

    def resolve(ref):
        if ref.startswith("urn:uuid:"):
            return by_id.get(ref[len("urn:uuid:"):])
        if "?identifier=" in ref:
            t, ident = ref.split("?identifier=", 1)
            return by_ident.get((t, ident))
        return None
    return resolve


def everything(subject, subject_resources, compartment_types, resolve):
    """Patient/$everything of one patient: the compartment (its types' resources that refer to
    the patient, and the patient) and the resources they refer to whose type is in no
    patient's compartment."""
    ref = "urn:uuid:" + subject["id"]
    members = [r for r in subject_resources if r["resourceType"] in compartment_types
               and (r is subject or ref in set(references(r)))]
    included = {}
    for r in members:
        for target in map(resolve, references(r)):
            if target is not None and target["resourceType"] not in compartment_types:
                included[target["resourceType"] + "/" + target["id"]] = target
    return members, included


def main():
    files, resources = load(sys.argv[1])
    patients = of_type(resources, "Patient")
    observations = of_type(resources, "Observation")
    # One patient to follow: the first of the sample, with everything in its file.
    subject = patients[0]
    subject_ident = SYNTHEA_ID_SYSTEM + "|" + synthea_id(subject)
    subject_file = next(i for i, r in resources if r is subject)
    subject_resources = [r for i, r in resources if i == subject_file]
    subject_obs = [r for r in subject_resources if r["resourceType"] == "Observation"]
    family = subject["name"][0]["family"]
    bmi = ("http://loinc.org", "39156-5")
    height = ("http://loinc.org", "8302-2")
    systolic = ("http://loinc.org", "8480-6")
    diastolic = ("http://loinc.org", "8462-4")
    weight = ("http://loinc.org", "29463-7")
    smoking = ("http://loinc.org", "72166-2")
    ssn = next(i["value"] for i in subject["identifier"] if has_code(i.get("type"), V2_0203, "SS"))
    roles = of_type(resources, "PractitionerRole")
    npi = (roles[0]["practitioner"]["identifier"]["system"], roles[0]["practitioner"]["identifier"]["value"])
    assert not any(has_code(o["code"], *height) and o["valueQuantity"]["value"] == 160 for o in observations)

    definitions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "node_modules",
                               "@medplum", "definitions", "dist", "fhir", "r4")
    compartment_types = patient_compartment_types(definitions)
    members, everything_included = everything(subject, subject_resources, compartment_types, resolver(resources))

    queries = [
        ("Patient?gender=female", [p for p in patients if p.get("gender") == "female"]),
        ("Patient?gender=male,female", [p for p in patients if p.get("gender") in ("male", "female")]),
        ("Patient?birthdate=lt1960-01-01", [p for p in patients if p["birthDate"] < "1960-01-01"]),
        ("Patient?birthdate=ge1960&birthdate=lt1980",
         [p for p in patients if "1960" <= p["birthDate"][:4] < "1980"]),
        ("Patient?name=re", [p for p in patients if any(norm(x).startswith("re") for x in name_parts(p))]),
        ("Patient?name=MRS.", [p for p in patients if any(norm(x).startswith("mrs.") for x in name_parts(p))]),
        ("Patient?name:contains=er", [p for p in patients if any("er" in norm(x) for x in name_parts(p))]),
        ("Patient?family:exact=" + family, [p for p in patients if any(n.get("family") == family for n in p["name"])]),
        ("Patient?address-city=Rehoboth",
         [p for p in patients if any(norm(a.get("city", "")).startswith("rehoboth") for a in p.get("address", []))]),
        ("Patient?identifier=" + subject_ident, [subject]),
        ("Patient?deceased=true", [p for p in patients if "deceasedDateTime" in p or p.get("deceasedBoolean")]),
        ("Observation?code=%s|%s" % height, [o for o in observations if has_code(o["code"], *height)]),
        ("Observation?code=8302-2", [o for o in observations if has_code(o["code"], None, "8302-2")]),
        ("Observation?category=vital-signs",
         [o for o in observations if any(has_code(c, None, "vital-signs") for c in o.get("category", []))]),
        ("Observation?date=ge2015-01-01&date=lt2016-01-01",
         [o for o in observations if "effectiveDateTime" in o
          and utc(2015, 1, 1) <= instant_utc(o["effectiveDateTime"]) < utc(2016, 1, 1)]),
        ("Observation?value-quantity=gt100",
         [o for o in observations if "valueQuantity" in o and o["valueQuantity"]["value"] > 100]),
        ("Observation?value-quantity=lt5|http://unitsofmeasure.org|mmol/L",
         [o for o in observations if "valueQuantity" in o and o["valueQuantity"].get("code") == "mmol/L"
          and o["valueQuantity"]["value"] < 5]),
        ("Observation?subject:Patient.identifier=" + subject_ident, subject_obs),
        ("Observation?patient.identifier=" + subject_ident, subject_obs),
        ("Observation?patient.identifier=%s&code=%s|%s" % ((subject_ident,) + bmi),
         [o for o in subject_obs if has_code(o["code"], *bmi)]),
        ("Patient?_has:Observation:patient:code=%s|%s" % bmi,
         [p for p in patients if any(
             has_code(o["code"], *bmi) and o["subject"]["reference"] == "urn:uuid:" + p["id"] for o in observations)]),
        ("Condition?code:text=diabetes",
         [c for c in of_type(resources, "Condition")
          if norm(c["code"].get("text", "")).startswith("diabetes")
          or any(norm(x.get("display", "")).startswith("diabetes") for x in codings(c["code"]))]),
        ("MedicationRequest?status=active", [m for m in of_type(resources, "MedicationRequest") if m["status"] == "active"]),
        ("Encounter?class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB",
         [e for e in of_type(resources, "Encounter")
          if e["class"].get("system") == "http://terminology.hl7.org/CodeSystem/v3-ActCode" and e["class"]["code"] == "AMB"]),
        ("Immunization?vaccine-code=http://hl7.org/fhir/sid/cvx|140",
         [i for i in of_type(resources, "Immunization") if has_code(i["vaccineCode"], "http://hl7.org/fhir/sid/cvx", "140")]),
        ("Organization?name=cape",
         [o for o in of_type(resources, "Organization") if norm(o.get("name", "")).startswith("cape")]),
        # Composites: the code and the value of the same Observation (or component).
        ("Observation?code-value-quantity=http://loinc.org|8302-2$gt150",
         [o for o in observations if any(has_code(c, *height) and v > 150 for c, v in quantity_items(o, False, False))]),
        # 1.6 m in canonical units against heights written in cm (none is exactly 160 cm).
        ("Observation?code-value-quantity=8302-2$gt1.6|http://unitsofmeasure.org|m",
         [o for o in observations if any(has_code(c, None, "8302-2") and v > 160
                                         for c, v in quantity_items(o, False, False))]),
        ("Observation?component-code-value-quantity=http://loinc.org|8480-6$ge130",
         [o for o in observations if any(has_code(c, *systolic) and v >= 130 for c, v in quantity_items(o, False, True))]),
        # Two composite clauses: each ties its own code and value.
        ("Observation?component-code-value-quantity=http://loinc.org|8480-6$ge130"
         "&component-code-value-quantity=http://loinc.org|8462-4$lt80",
         [o for o in observations
          if any(has_code(c, *systolic) and v >= 130 for c, v in quantity_items(o, False, True))
          and any(has_code(c, *diastolic) and v < 80 for c, v in quantity_items(o, False, True))]),
        ("Observation?combo-code-value-quantity=http://loinc.org|8480-6$gt120,http://loinc.org|29463-7$gt100",
         [o for o in observations if any((has_code(c, *systolic) and v > 120) or (has_code(c, *weight) and v > 100)
                                         for c, v in quantity_items(o, True, True))]),
        ("Observation?code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|8517006",
         [o for o in observations if has_code(o["code"], *smoking)
          and has_code(o.get("valueCodeableConcept"), "http://snomed.info/sct", "8517006")]),
        ("Observation?code-value-concept=72166-2$266919005,72166-2$8517006",
         [o for o in observations if has_code(o["code"], None, "72166-2")
          and any(has_code(o.get("valueCodeableConcept"), None, v) for v in ("266919005", "8517006"))]),
        ("Observation?code-value-string=http://loinc.org|63513-6$y",
         [o for o in observations if has_code(o["code"], "http://loinc.org", "63513-6")
          and norm(o.get("valueString", "")).startswith("y")]),
        # Full text. Words chosen to be neither in the ids nor in the references the server
        # rewrites (urn:uuid:, conditional references), which differ from the raw files.
        ("CarePlan?_text=diabetes", [c for c in of_type(resources, "CarePlan") if text_matches(narrative(c), "diabetes")]),
        ('CarePlan?_text="self management"',
         [c for c in of_type(resources, "CarePlan") if text_matches(narrative(c), '"self management"')]),
        ('CarePlan?_text=respiratory OR "management plan"',
         [c for c in of_type(resources, "CarePlan")
          if text_matches(narrative(c), 'respiratory OR "management plan"')]),
        ("Patient?_text=synthea", [p for p in patients if text_matches(narrative(p), "synthea")]),
        ("Condition?_content=sinusitis,bronchitis",
         [c for c in of_type(resources, "Condition") if text_matches(content(c), "sinusitis OR bronchitis")]),
        ("Observation?_content=hemoglobin blood",
         [o for o in observations if text_matches(content(o), "hemoglobin blood")]),
        ('Encounter?_content="general examination"',
         [e for e in of_type(resources, "Encounter") if text_matches(content(e), '"general examination"')]),
        ("?_content=hypertension", [r for _, r in resources if text_matches(content(r), "hypertension")]),
        # Modifiers: :of-type (an identifier's type and value), :identifier (a reference's
        # identifier), uri :contains.
        ("Patient?identifier:of-type=%s|SS|%s" % (V2_0203, ssn),
         [p for p in patients if any(has_code(i.get("type"), V2_0203, "SS") and i.get("value") == ssn
                                     for i in p.get("identifier", []))]),
        ("Patient?identifier:of-type=%s|MR|%s" % (V2_0203, ssn), []),  # the SSN is no MR
        ("PractitionerRole?practitioner:identifier=%s|%s" % npi,
         [r for r in roles if (r["practitioner"].get("identifier", {}).get("system"),
                               r["practitioner"].get("identifier", {}).get("value")) == npi]),
        ("PractitionerRole?practitioner:identifier=%s|" % npi[0],
         [r for r in roles if r["practitioner"].get("identifier", {}).get("system") == npi[0]]),
        ("Observation?_profile:contains=vitalsigns",
         [o for o in observations if any("vitalsigns" in p for p in o.get("meta", {}).get("profile", []))]),
        ("?_profile:contains=us-core-diagnosticreport",
         [r for _, r in resources if any("us-core-diagnosticreport" in p for p in r.get("meta", {}).get("profile", []))]),
        ("Condition?code:text=covid",
         [c for c in of_type(resources, "Condition")
          if norm(c["code"].get("text", "")).startswith("covid")
          or any(norm(x.get("display", "")).startswith("covid") for x in codings(c["code"]))]),
        # Token :in / :not-in: value sets the test POSTs first (VALUE_SETS), and one of the
        # specification's (a required binding, expanded from the definitions).
        ("Observation?code:in=" + BODY_SIZE_VS,
         [o for o in observations if any(has_code(o["code"], *c) for c in (height, weight, bmi))]),
        ("Observation?code:in=%s|2" % VITALS_VS,
         [o for o in observations if any(has_code(o["code"], *c) for c in (height, bmi, ("http://loinc.org", "2339-0")))]),
        ("Observation?code:in=" + MANY_VS,
         [o for o in observations if any(has_code(o["code"], *c) for c in (height, weight, bmi))]),
        ("Observation?code:not-in=%s&category=vital-signs" % MANY_VS,
         [o for o in observations if any(has_code(c, None, "vital-signs") for c in o.get("category", []))
          and not any(has_code(o["code"], *c) for c in (height, weight, bmi))]),
        ("Encounter?class:not-in=" + AMBULATORY_VS,
         [e for e in of_type(resources, "Encounter")
          if not (e["class"].get("system") == V3_ACTCODE and e["class"].get("code") == "AMB")]),
        ("Condition?clinical-status:in=http://hl7.org/fhir/ValueSet/condition-clinical",
         [c for c in of_type(resources, "Condition")
          if any(has_code(c.get("clinicalStatus"), CONDITION_CLINICAL, x)
                 for x in ("active", "recurrence", "relapse", "inactive", "remission", "resolved"))]),
        ("MedicationRequest?status:in=" + STOPPED_VS,
         [m for m in of_type(resources, "MedicationRequest") if m["status"] in ("stopped", "completed")]),
        ("Condition?code:below=%s|73211009" % SNOMED,
         [c for c in of_type(resources, "Condition")
          if any(has_code(c["code"], SNOMED, x) for x in below(SNOMED_FRAGMENT, "73211009"))]),
        ("Condition?code:above=%s|44054006" % SNOMED,
         [c for c in of_type(resources, "Condition")
          if any(has_code(c["code"], SNOMED, x) for x in above(SNOMED_FRAGMENT, "44054006"))]),
        ("Condition?code:below=%s|64572001" % SNOMED,
         [c for c in of_type(resources, "Condition")
          if any(has_code(c["code"], SNOMED, x) for x in below(SNOMED_FRAGMENT, "64572001"))]),
        # Location near: within a distance of a point (Boston), in km, miles, and by default 10 km.
        ("Location?near=42.3601|-71.0589|15|km", near(of_type(resources, "Location"), 42.3601, -71.0589, 15)),
        ("Location?near=42.3601|-71.0589|40|[mi_i]",
         near(of_type(resources, "Location"), 42.3601, -71.0589, 40 * 1.609344)),
        ("Location?near=42.3601|-71.0589", near(of_type(resources, "Location"), 42.3601, -71.0589, 10)),
        ("Location?near=42.3601|-71.0589|5000|m,41.7|-70.7|20|km",
         [l for l in of_type(resources, "Location")
          if l in near([l], 42.3601, -71.0589, 5) or l in near([l], 41.7, -70.7, 20)]),
        # Functional lists: what is current, by the clinical status.
        ("Condition?_list=$current-problems",
         [c for c in of_type(resources, "Condition")
          if any(has_code(c.get("clinicalStatus"), CONDITION_CLINICAL, x) for x in ("active", "recurrence", "relapse"))]),
        ("Condition?patient.identifier=%s&_list=$current-problems" % subject_ident,
         [c for c in subject_resources if c["resourceType"] == "Condition"
          and any(has_code(c.get("clinicalStatus"), CONDITION_CLINICAL, x) for x in ("active", "recurrence", "relapse"))]),
        ("MedicationRequest?_list=$current-medications",
         [m for m in of_type(resources, "MedicationRequest") if m["status"] == "active"]),
        ("AllergyIntolerance?_list=$current-allergies",
         [a for a in of_type(resources, "AllergyIntolerance")
          if has_code(a.get("clinicalStatus"), ALLERGY_CLINICAL, "active")]),
        ("AllergyIntolerance?_list=$current-drug-allergies",
         [a for a in of_type(resources, "AllergyIntolerance")
          if has_code(a.get("clinicalStatus"), ALLERGY_CLINICAL, "active") and "medication" in a.get("category", [])]),
        ("Patient?_has:Observation:patient:code:in=" + BODY_SIZE_VS,
         [p for p in patients if any(
             any(has_code(o["code"], *c) for c in (height, weight, bmi))
             and o["subject"]["reference"] == "urn:uuid:" + p["id"] for o in observations)]),
    ]
    out = {
        "terminology": TERMINOLOGY,
        "files": files,
        "resources": len(resources),
        "patients": len(patients),
        "queries": [{"query": q, "count": len(matches)} for q, matches in queries],
        # Includes: Observations of one code with their subjects; one patient with its Observations.
        "include": {
            "query": "Observation?code=%s|%s&_include=Observation:subject" % bmi,
            "matches": len([o for o in observations if has_code(o["code"], *bmi)]),
            "included": len({o["subject"]["reference"] for o in observations if has_code(o["code"], *bmi)}),
        },
        "revinclude": {
            "query": "Patient?identifier=%s&_revinclude=Observation:subject" % subject_ident,
            "matches": 1,
            "included": len(subject_obs),
        },
        "sorted_birthdates": sorted(p["birthDate"] for p in patients),
        # Compartment search and $everything of the followed patient (found by identifier).
        "compartment": {
            "identifier": subject_ident,
            "all": len(members),
            "types": {t: len([r for r in members if r["resourceType"] == t])
                      for t in ("Observation", "Encounter", "Patient", "Claim")},
            "included": len(everything_included),
            "included_types": sorted({k.split("/")[0] for k in everything_included}),
            # Patient/$everything: every resource of a compartment type, whoever's.
            "type_level": len([r for _, r in resources if r["resourceType"] in compartment_types]),
        },
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
