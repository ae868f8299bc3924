#!/usr/bin/env python3
"""Validate the benchmark CSV with pandera (reading it with pandas) and print
the number of errors found.

    python bench/validate/pandera_validate.py DATA.csv SCHEMA.json

The rules are built from the same Table Schema as frictionless gets, and
follow its semantics so both tools count the same errors:
  * every cell is read as text, "" is the only missing value;
  * a missing cell in a required field is one error (not_nullable);
  * a cell that is not of the field's type is one error (the "type:" check),
    and the constraints (minimum, enum, ...) are then not checked on it.
Why not `coerce=True`: pandera coerces a whole column or nothing, so one
"forty" in `age` leaves the column as text and every range check in it is
lost (it reports 1 error instead of ~90). The checks below are vectorised
pandas operations, which is how pandera runs its own built-in checks.
Timed as a whole process, interpreter start-up, imports and read included.
"""
import json
import sys
from collections import Counter

import pandas as pd
import pandera.pandas as pa

INT_RE = r"[+-]?[0-9]+"  # Table Schema integer lexical form (no "1.0", no "1e3")
BOOL_VALUES = ["true", "True", "TRUE", "1", "false", "False", "FALSE", "0"]
TIME_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%SZ"}


def parse(kind, s):
    """Typed values of a text column; NaN/NaT where a cell is not of the type.
    (pandera hands each check a new Series, so a column with type, minimum
    and maximum checks is parsed three times; caching by id() never hits.)"""
    if kind == "integer":
        return pd.to_numeric(s.where(s.str.fullmatch(INT_RE)), errors="coerce")
    if kind == "number":
        return pd.to_numeric(s, errors="coerce")
    if kind in TIME_FORMATS:
        return pd.to_datetime(s, format=TIME_FORMATS[kind], errors="coerce")
    return s


def checks_for(field):
    kind, c = field["type"], field.get("constraints", {})
    checks = []
    if kind in ("integer", "number", "date", "datetime"):
        checks.append(pa.Check(lambda s, k=kind: parse(k, s).notna(), error=f"type:{kind}"))
    elif kind == "boolean":
        checks.append(pa.Check.isin(BOOL_VALUES, error="type:boolean"))
    # Range checks pass on cells of the wrong type: the type check reports those.
    if "minimum" in c:
        checks.append(pa.Check(lambda s, k=kind, m=c["minimum"]: (v := parse(k, s)).isna() | (v >= m),
                               error=f"minimum:{c['minimum']}"))
    if "maximum" in c:
        checks.append(pa.Check(lambda s, k=kind, m=c["maximum"]: (v := parse(k, s)).isna() | (v <= m),
                               error=f"maximum:{c['maximum']}"))
    if "enum" in c:
        checks.append(pa.Check.isin(c["enum"]))
    if "pattern" in c:  # Table Schema patterns match the whole cell
        checks.append(pa.Check.str_matches(f"^(?:{c['pattern']})$"))
    if "maxLength" in c:
        checks.append(pa.Check.str_length(max_value=c["maxLength"]))
    return pa.Column(
        str, checks, nullable=not c.get("required", False),
        unique=c.get("unique", False), report_duplicates="exclude_first",
    )


def main():
    data, schema_path = sys.argv[1], sys.argv[2]
    fields = json.load(open(schema_path))["fields"]
    schema = pa.DataFrameSchema({f["name"]: checks_for(f) for f in fields}, strict=True, ordered=True)
    df = pd.read_csv(data, dtype=str, keep_default_na=False, na_values=[""])
    try:
        schema.validate(df, lazy=True)
        failures = pd.DataFrame(columns=["column", "check"])
    except pa.errors.SchemaErrors as e:
        failures = e.failure_cases
    for (col, check), n in sorted(Counter(zip(failures["column"], failures["check"])).items(), key=str):
        print(f"  {col}: {check} x{n}", file=sys.stderr)
    print(f"pandera errors: {len(failures)}")


if __name__ == "__main__":
    main()
