# SPDX-License-Identifier: Apache-2.0
"""Checks the RFC 8460 reports `mxverify tlsrpt` wrote (tlsrpt.sh).

validate.py SCHEMA DIR ORG CONTACT: every DIR/*.json.gz is gzip, holds one
JSON report valid under SCHEMA (a JSON Schema, checked by the small
validator below: the python jsonschema package is not needed), named
ORG!DOMAIN!BEGIN!END!REPORT-ID.json.gz (RFC 8460 section 5.3.1) with the
day's epoch seconds, its organization-name ORG and contact-info CONTACT,
report-ids unique, failure counts adding up. Prints, on stdout, the
reports reduced to what the test compares exactly (sorted, one JSON
document); exit 1 with the reasons on stderr when a check fails.
"""
import calendar
import gzip
import json
import os
import re
import sys
import time

ANNOTATIONS = {"$comment", "$schema", "description", "title"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(v, schema, root, path="$"):
    """The errors of instance v under schema (a list; empty: valid)."""
    errors = []
    for key, arg in schema.items():
        if key in ANNOTATIONS or key in ("then", "else", "$defs"):
            continue
        if key == "$ref":
            if not arg.startswith("#/"):
                raise ValueError("only local $ref: " + arg)
            target = root
            for part in arg[2:].split("/"):
                target = target[part]
            errors += validate(v, target, root, path)
        elif key == "type":
            if not TYPES[arg](v):
                errors.append(f"{path}: not of type {arg}")
                return errors
        elif key == "enum":
            if v not in arg:
                errors.append(f"{path}: {v!r} not one of {arg}")
        elif key == "required":
            if isinstance(v, dict):
                errors += [f"{path}: lacks {k!r}" for k in arg if k not in v]
        elif key == "properties":
            if isinstance(v, dict):
                for k, sub in arg.items():
                    if k in v:
                        errors += validate(v[k], sub, root, f"{path}.{k}")
        elif key == "additionalProperties":
            if isinstance(v, dict):
                extra = [k for k in v if k not in schema.get("properties", {})]
                if arg is False:
                    errors += [f"{path}: unexpected key {k!r}" for k in extra]
                else:
                    for k in extra:
                        errors += validate(v[k], arg, root, f"{path}.{k}")
        elif key == "items":
            if isinstance(v, list):
                for i, item in enumerate(v):
                    errors += validate(item, arg, root, f"{path}[{i}]")
        elif key == "minItems":
            if isinstance(v, list) and len(v) < arg:
                errors.append(f"{path}: fewer than {arg} items")
        elif key == "uniqueItems":
            if arg and isinstance(v, list):
                seen = [json.dumps(x, sort_keys=True) for x in v]
                if len(set(seen)) != len(seen):
                    errors.append(f"{path}: items not unique")
        elif key == "minLength":
            if isinstance(v, str) and len(v) < arg:
                errors.append(f"{path}: shorter than {arg}")
        elif key == "minimum":
            if TYPES["number"](v) and v < arg:
                errors.append(f"{path}: {v} < {arg}")
        elif key == "pattern":
            if isinstance(v, str) and not re.search(arg, v):
                errors.append(f"{path}: {v!r} does not match {arg}")
        elif key == "not":
            if not validate(v, arg, root, path):
                errors.append(f"{path}: matches what 'not' excludes: {json.dumps(arg)}")
        elif key == "if":
            branch = "then" if not validate(v, arg, root, path) else "else"
            if branch in schema:
                errors += validate(v, schema[branch], root, path)
        else:
            raise ValueError(f"keyword {key!r} not implemented by validate.py")
    return errors


def epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def main(schema_path, directory, org, contact):
    schema = json.load(open(schema_path))
    problems, reports, ids = [], [], set()
    orgpart = re.sub(r"[^A-Za-z0-9._-]", "_", org)
    names = sorted(n for n in os.listdir(directory) if n.endswith(".json.gz"))
    leftovers = [n for n in os.listdir(directory) if n.endswith(".tmp")]
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    for name in names:
        raw = open(os.path.join(directory, name), "rb").read()
        if raw[:2] != b"\x1f\x8b":
            problems.append(f"{name}: not gzip")
            continue
        r = json.loads(gzip.decompress(raw))
        errs = validate(r, schema, schema)
        problems += [f"{name}: {e}" for e in errs]
        if errs:
            continue
        start, end = r["date-range"]["start-datetime"], r["date-range"]["end-datetime"]
        day = start[:10]
        if start != day + "T00:00:00Z" or end != day + "T23:59:59Z":
            problems.append(f"{name}: date-range {start} .. {end} is not one UTC day")
        domains = {p["policy"]["policy-domain"] for p in r["policies"]}
        if len(domains) != 1:
            problems.append(f"{name}: policy domains {sorted(domains)}")
        domain = sorted(domains)[0]
        want = f"{orgpart}!{domain}!{epoch(start)}!{epoch(end)}!{r['report-id']}.json.gz"
        if name != want:
            problems.append(f"{name}: wanted the name {want}")
        if r["organization-name"] != org or r["contact-info"] != contact:
            problems.append(f"{name}: organization-name/contact-info not as given")
        if r["report-id"] in ids:
            problems.append(f"{name}: report-id {r['report-id']} not unique")
        ids.add(r["report-id"])
        policies = []
        for p in r["policies"]:
            details = p.get("failure-details", [])
            failed = p["summary"]["total-failure-session-count"]
            if sum(d["failed-session-count"] for d in details) != failed:
                problems.append(f"{name}: failure-details do not add up to {failed}")
            keys = [(d["result-type"], d.get("sending-mta-ip"), d.get("receiving-ip"),
                     d.get("receiving-mx-hostname")) for d in details]
            if len(set(keys)) != len(keys):
                problems.append(f"{name}: failure-details not grouped")
            policies.append({
                "type": p["policy"]["policy-type"],
                "string": p["policy"].get("policy-string"),
                "mx-host": sorted(p["policy"]["mx-host"]) if "mx-host" in p["policy"] else None,
                "ok": p["summary"]["total-successful-session-count"],
                "failed": failed,
                "details": sorted([[d["result-type"], d.get("sending-mta-ip"), d.get("receiving-ip"),
                                    d.get("receiving-mx-hostname"), d["failed-session-count"],
                                    d.get("failure-reason-code")] for d in details],
                                  key=json.dumps),
            })
        policies.sort(key=lambda x: json.dumps(x, sort_keys=True))
        reports.append({"day": day, "domain": domain, "policies": policies})
    reports.sort(key=lambda x: (x["day"], x["domain"]))
    for p in problems:
        print("validate.py: " + p, file=sys.stderr)
    print(json.dumps(reports, indent=1, sort_keys=True))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: validate.py SCHEMA DIR ORG CONTACT")
    sys.exit(main(*sys.argv[1:]))
