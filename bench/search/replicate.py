#!/usr/bin/env python3
"""Grows the Synthea sample into a benchmark population, until the generator issue lands.

    replicate.py SYNTHEA_DIR OUT_DIR PATIENTS [CAP]

Writes transaction Bundles (.json) for `ehr import`:
  - 00-*.json: the hospital and practitioner files as they are (organizations, locations,
    practitioners, referenced conditionally by the patient files);
  - 01-copy-0000-NNN.json: every Synthea patient file whole (about 760 resources a patient on
    average, some over 1,000: the $everything targets);
  - 01-copy-NNNN.json: further copies of every patient until PATIENTS patients exist, each
    patient cut to CAP evenly spaced entries of its file (default 100; the Patient, and the
    file's mix of types and years) so that the population has the issue's shape (about 100
    resources a patient). References to entries left out dangle, as they may in real data.
Every copy gets new ids (a uuid5 of the copy number and the original id, applied to every
occurrence of the id, so that references and Synthea identifiers stay consistent) and
distinct family names (a suffix per copy), so that name and identifier searches stay as
selective as in a real population. Deterministic: the same arguments write the same files.
"""
import bz2
import glob
import json
import os
import re
import sys
import uuid

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NAMESPACE = uuid.UUID("6f1b1f52-8f0c-4bb4-9a53-2f3f1a5c0de1")


def suffix(n):
    """A letter suffix per copy: a, b, ..., z, ba, bb, ..."""
    letters = ""
    while True:
        letters = chr(ord("a") + n % 26) + letters
        n //= 26
        if n == 0:
            return letters


def main():
    src, out, patients = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cap = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    os.makedirs(out, exist_ok=True)
    files = sorted(glob.glob(os.path.join(src, "*.json.bz2")))
    info = [f for f in files if os.path.basename(f).startswith("0-")]
    people = [f for f in files if not os.path.basename(f).startswith("0-")]
    for f in info:
        with bz2.open(f, "rb") as fh, open(os.path.join(out, "00-" + os.path.basename(f)[:-4]), "wb") as o:
            o.write(fh.read())

    # Each patient file as compact JSON text (whole, and cut), with its family names.
    whole, cut, families, own = [], [], [], []
    for f in people:
        with bz2.open(f, "rt") as fh:
            bundle = json.load(fh)
        entries = bundle["entry"]
        whole.append(",".join(json.dumps(e, separators=(",", ":")) for e in entries))
        # Evenly spaced entries keep the file's mix of types and years; entry 0 is the Patient.
        kept = sorted({j * len(entries) // cap for j in range(min(cap, len(entries)))})
        cut.append(",".join(json.dumps(entries[k], separators=(",", ":")) for k in kept))
        own.append({e["resource"]["id"] for e in entries})  # ids to renew; others (conditional references) stay
        fams = set()
        for e in entries:
            r = e["resource"]
            if r["resourceType"] == "Patient":
                fams.update(n["family"] for n in r.get("name", []) if "family" in n)
        families.append(sorted(fams))

    total_resources = 0
    made = 0
    copy = 0
    while made < patients:
        texts = whole if copy == 0 else cut
        parts = []
        for i, text in enumerate(texts):
            if made == patients:
                break
            if copy > 0:
                ids = {}

                def new_id(m):
                    old = m.group(0)
                    if old not in own[i]:
                        return old
                    if old not in ids:
                        ids[old] = str(uuid.uuid5(NAMESPACE, "%d/%s" % (copy, old)))
                    return ids[old]
                text = UUID.sub(new_id, text)
                for fam in families[i]:
                    text = text.replace('"family":%s' % json.dumps(fam), '"family":%s' % json.dumps(fam + suffix(copy)))
            parts.append(text)
            total_resources += text.count('"fullUrl"')
            made += 1
        # The whole files stay one Bundle each (up to 5,000 entries); a cut copy is one.
        groups = [[p] for p in parts] if copy == 0 else [parts]
        for g, group in enumerate(groups):
            name = "01-copy-%04d-%03d.json" % (copy, g) if copy == 0 else "01-copy-%04d.json" % copy
            with open(os.path.join(out, name), "w") as o:
                o.write('{"resourceType":"Bundle","type":"transaction","entry":[')
                o.write(",".join(group))
                o.write("]}")
        copy += 1
    print("%d patients, %d resources in patient files, %d copies" % (made, total_resources, copy))


if __name__ == "__main__":
    main()
