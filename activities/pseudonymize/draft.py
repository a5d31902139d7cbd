"""Draft a policy from a dataset's columns (``medpipe policy init``).

Each column is drafted from two witnesses: its name and its content (type,
and a sample matched against the scrubber's own patterns and name
dictionary). A numeric column is never drafted ``scrub``. Where the two
witnesses disagree, or only one speaks, the line carries ``# review: ...``
saying why; a person reviews the draft before it is used. The draft never
contains a value from the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.names import PAIR, dictionary
from medpipe.activities.deid.patterns import PATTERNS, re2
from medpipe.activities.pseudonymize import streams
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
    (r"birth|dob", "generalize:birth_year", "birth date"),
    (r"date|_at$|time", "date_shift", "date"),
    (r"^age", "generalize:age", "age"),
    (r"note|comment|text|narrative|report", "scrub", "free text"),
    (r"(^|_)id$", "token", "identifier"),
]
_PLACEHOLDER = {"name": "NAME", "SSN": "SSN", "phone": "PHONE", "e-mail": "EMAIL",
                "address": "ADDRESS"}


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


_CONTENT_ACTION = {"ssn": ("drop", "SSN"), "phone": ("drop", "PHONE"),
                   "email": ("drop", "EMAIL"), "url": ("drop", "URL"), "ip": ("drop", "IP"),
                   "mrn": ("token", "MRN"), "address": ("drop", "ADDRESS")}


def _content(col: pa.ChunkedArray) -> tuple[str, str] | None:
    """(action, what) the sampled values suggest, or None (nothing identifying seen)."""
    if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
        return "date_shift", "dates"
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return None
    n = len(col) - col.null_count
    if n == 0:
        return None
    if (pc.sum(pc.match_substring_regex(col, r"^\d{4}-\d{2}-\d{2}([T ].*)?$")).as_py() or 0) \
            >= 0.9 * n:
        return "date_shift", "dates"
    lengths = pc.utf8_length(col)
    spaces = pc.sum(pc.match_substring(col, " ")).as_py() or 0
    if (pc.mean(lengths).as_py() or 0) > 40 and spaces >= 0.5 * n:
        return "scrub", "free text"
    for label, pattern, _ in PATTERNS:
        hits = pc.sum(pc.match_substring_regex(col, re2(pattern))).as_py() or 0
        if hits >= 0.5 * n and label in _CONTENT_ACTION:
            return _CONTENT_ACTION[label][0], label
    given, family = dictionary()
    sample = [v for v in col.to_pylist()[:200] if v]
    named = sum(1 for v in sample if (m := PAIR.fullmatch(v.strip())) and (
        m.group(1).lower() in given or m.group(2).lower().replace("'", "") in family))
    if sample and named >= 0.5 * len(sample):
        return "drop", "name"
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
        col = table.column(name)
        numeric = pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
        action, why, review = "keep", "", ""
        for pattern, act, label in _BY_NAME:
            if re.search(pattern, low):
                action, why = act, f"name looks like a {label}"
                break
        content = _content(col)
        if content is not None:
            c_act, c_what = content
            if action == "keep":
                action, why = c_act, f"values look like {c_what}"
                review = "decided by content only"
            elif c_act != action.split(":")[0] and not (c_act == "drop" and action == "token") \
                    and not action.startswith("generalize"):
                review = f"the values look like {c_what} ({c_act})"
        elif why and not numeric and not action.startswith(("token", "generalize")):
            review = "decided by name only: the sample showed no such values"
        if numeric and action == "scrub":
            action, review = "keep", "numeric: not free text, so not scrubbed"
        if numeric and action == "date_shift":
            review = "numeric column named like a date"
        if action == "keep" and not why and not review:
            review = "kept as is"
        if action == "token" and patient is None and why.endswith("patient identifier"):
            patient = name
        rule = {"generalize:zip3": "{action: generalize, kind: zip3}",
                "generalize:age": "{action: generalize, kind: age}",
                "generalize:birth_year": "{action: generalize, kind: birth_year}"}.get(action)
        if rule is None:
            ph = next((p for lbl, p in _PLACEHOLDER.items() if why.endswith(lbl)), None)
            if ph is None and content is not None and content[1] in _CONTENT_ACTION:
                ph = _CONTENT_ACTION[content[1]][1]
            extra = f", identifier: true, placeholder: {ph}" if action == "drop" and ph else ""
            rule = f"{{action: {action}{extra}}}"
        comment = "  # " + "; ".join(x for x in (why, f"review: {review}" if review else "")
                                     if x)
        rules.append(f"  {_yaml_key(name)}: {rule}{comment}")
    if patient is None and any("date_shift" in r for r in rules):
        lines.append("# patient_id: <set the column naming the patient: date_shift needs it>")
    elif patient is not None:
        lines.append(f"patient_id: {_yaml_key(patient)}")
    lines += ["token_mode: vault", "date_shift_days: 180", "fields:"] + rules
    return "\n".join(lines) + "\n"


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f'"{name}"'
