"""Draft a policy from a dataset's columns (``medpipe policy init``).

Likely identifiers are marked by column name and by sampling values against
the scrub patterns; everything else is drafted as ``keep`` with a comment, so
a person reviews the draft before it is used. The draft never contains a
value from the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.pseudonymize import streams
from medpipe.activities.residual import SCRUB_PATTERNS
from medpipe.contracts.errors import InvalidInput

SAMPLE_ROWS = 2000
_BY_NAME: list[tuple[str, str, str]] = [
    (r"(^|_)(patient|person|subject)_?(id|key|no)$|^(mrn|pid)$|medical_record", "token",
     "patient identifier"),
    (r"(^|_)(first|last|given|family|full)?_?name$", "drop", "name"),
    (r"ssn|social_sec", "drop", "SSN"),
    (r"phone|mobile|fax|tel$", "drop", "phone"),
    (r"e_?mail", "drop", "e-mail"),
    (r"address|street|city", "drop", "address"),
    (r"zip|postal", "generalize:zip3", "ZIP code"),
    (r"birth|dob", "date_shift", "birth date"),
    (r"date|_at$|time", "date_shift", "date"),
    (r"^age", "generalize:age", "age"),
    (r"note|comment|text|narrative|report", "scrub", "free text"),
    (r"(^|_)id$", "token", "identifier"),
]
_PLACEHOLDER = {"name": "NAME", "SSN": "SSN", "phone": "PHONE", "e-mail": "EMAIL"}


def _sample(path: Path, fmt: str) -> pa.Table:
    if fmt == "csv":
        with open(path, "rb") as f:
            batches = streams.csv_batches(iter(lambda: f.read(1 << 20), b""), path.name, [],
                                          rows=SAMPLE_ROWS)
            first = next(batches, None)
        if first is None:
            raise InvalidInput(f"{path}: no rows")
        return pa.Table.from_batches([first]).slice(0, SAMPLE_ROWS)
    if fmt == "parquet":
        first = next(streams.parquet_batches(str(path), path.name, SAMPLE_ROWS), None)
        if first is None:
            raise InvalidInput(f"{path}: no rows")
        return pa.Table.from_batches([first])
    raise InvalidInput(f"{path}: policy init drafts tabular policies (CSV or Parquet); "
                       "start FHIR from the bundled FHIR policy")


def _pattern_hits(col: pa.ChunkedArray) -> str | None:
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return None
    for label, pattern in SCRUB_PATTERNS.items():
        hits = pc.sum(pc.match_substring_regex(col, pattern)).as_py() or 0
        if hits and hits >= 0.2 * (len(col) - col.null_count):
            return label
    return None


def draft_policy(path: Path, fmt: str) -> str:
    """YAML text of a draft policy for the dataset at ``path``."""
    table = _sample(path, fmt)
    lines = ["# Draft policy: review every line before use. Unknown columns are refused.",
             "format: tabular"]
    rules: list[str] = []
    patient: str | None = None
    for name in table.column_names:
        low = name.lower()
        action, why = "keep", ""
        for pattern, act, label in _BY_NAME:
            if re.search(pattern, low):
                action, why = act, f"name looks like a {label}"
                break
        found = _pattern_hits(table.column(name))
        if found and action == "keep":
            action, why = ("scrub", f"values contain {found} patterns")
        if action == "token" and patient is None and why.endswith("patient identifier"):
            patient = name
        rule = {"generalize:zip3": "{action: generalize, kind: zip3}",
                "generalize:age": "{action: generalize, kind: age}"}.get(action)
        if rule is None:
            ph = next((p for lbl, p in _PLACEHOLDER.items() if why.endswith(lbl)), None)
            extra = f", identifier: true, placeholder: {ph}" if action == "drop" and ph else ""
            rule = f"{{action: {action}{extra}}}"
        comment = f"  # {why}" if why else "  # review: kept as is"
        rules.append(f"  {_yaml_key(name)}: {rule}{comment}")
    if patient is None and any("date_shift" in r for r in rules):
        lines.append("# patient_id: <set the column naming the patient: date_shift needs it>")
    elif patient is not None:
        lines.append(f"patient_id: {_yaml_key(patient)}")
    lines += ["token_mode: vault", "date_shift_days: 180", "fields:"] + rules
    return "\n".join(lines) + "\n"


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f'"{name}"'
