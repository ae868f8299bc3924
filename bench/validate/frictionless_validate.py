#!/usr/bin/env python3
"""Validate the benchmark CSV with frictionless (the reference Table Schema
implementation) and print the number of errors found.

    python bench/validate/frictionless_validate.py DATA.csv SCHEMA.json

Timed as a whole process (interpreter start-up and imports included), since
that is what a user waits for in CI. Per-field error counts go to stderr.
"""
import sys
from collections import Counter

from frictionless import Resource, Schema, system


def main():
    data, schema = sys.argv[1], sys.argv[2]
    # frictionless refuses absolute and '..' paths ("not safe") unless trusted.
    with system.use_context(trusted=True):
        resource = Resource(path=data, schema=Schema.from_descriptor(schema))
        # It also stops after 1000 errors by default; we want all of them.
        report = resource.validate(limit_errors=10**9)
    errors = report.flatten(["rowNumber", "fieldName", "type"])
    for (field, code), n in sorted(Counter((f, c) for _, f, c in errors).items(), key=str):
        print(f"  {field}: {code} x{n}", file=sys.stderr)
    print(f"frictionless errors: {len(errors)}")


if __name__ == "__main__":
    main()
