"""FHIR resources are pseudonymized in batches (``fhir_later``): the walk leaves tokens,
date offsets and free texts for later, and the batch resolves them together.

Held here: the batch size changes no output byte and no report figure; every token and
shifted date is the one the tokenizer gives that value alone; a batch's texts go through
the column scrubber once; a value read before its batch is resolved is an error, not a
placeholder object in the output; values made of parts (narratives, attachments) are
put back together. And the residual check of FHIR (validate) gathers strings into columns
and flags what checking them one by one flags.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from medpipe.activities import residual_scan
from medpipe.activities.pseudonymize import default_fhir_policy, fhir_later, pseudonymize_file
from medpipe.activities.pseudonymize import run as run_module
from medpipe.activities.pseudonymize.fhir_later import Slot
from medpipe.activities.pseudonymize.run import Pseudonymizer
from medpipe.activities.pseudonymize.tokens import HmacTokenizer
from medpipe.activities.residual_scan import ResidualTally, scan_dataset, scan_fhir
from medpipe.contracts.pseudonymize import Policy, PseudonymizeReport, TokenMode

from .synthea_like import person, transaction

KEY = b"k" * 32


def _policy() -> Policy:
    """The bundled policy with keyed tokens: the same input gives the same bytes."""
    return default_fhir_policy().model_copy(update={"token_mode": TokenMode.HMAC})


def _export(path: Path, patients: int) -> list[dict[str, Any]]:
    """An NDJSON bulk export of ``patients`` Synthea-shaped transactions, Patients first."""
    fake = Faker("en_US")
    fake.seed_instance(23)
    people = [person(fake) for _ in range(patients + 1)]
    resources = []
    for i in range(patients):
        bundle, _ = transaction(fake, people[i], people[i + 1], with_ids=True)
        resources += [e["resource"] for e in bundle["entry"]]
    path.write_text("".join(json.dumps(r) + "\n" for r in resources))
    return resources


def _run(tmp_path: Path, src: Path, name: str) -> tuple[bytes, PseudonymizeReport]:
    out = tmp_path / name
    report = pseudonymize_file(src, out, _policy(), hmac_key=KEY)
    return out.read_bytes(), report


def test_batch_size_changes_no_byte_and_no_figure(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.ndjson"
    resources = _export(src, 6)
    whole, whole_report = _run(tmp_path, src, "whole.ndjson")  # one batch
    assert len(resources) < run_module.BATCH_DOCS
    monkeypatch.setattr(run_module, "BATCH_DOCS", 1)
    one, one_report = _run(tmp_path, src, "one.ndjson")
    monkeypatch.setattr(run_module, "BATCH_DOCS", 1 << 20)
    monkeypatch.setattr(run_module, "BATCH_BYTES", 3000)  # a few lines a batch, by size
    sized, sized_report = _run(tmp_path, src, "sized.ndjson")
    assert whole == one == sized
    assert whole_report == one_report == sized_report
    assert whole_report.records == len(resources)
    assert whole_report.placeholders  # the notes were scrubbed: the comparison is not empty
    strings = {f.field: f for f in whole_report.fields}["@string"]
    assert 0 < strings.changed < strings.values  # "Diabetes" stays: counted as unchanged


def test_tokens_and_dates_are_the_tokenizers_own(tmp_path: Path) -> None:
    """Each id, reference and shifted date is what the tokenizer gives its value alone."""
    src = tmp_path / "in.ndjson"
    resources = _export(src, 4)
    out, _ = _run(tmp_path, src, "out.ndjson")
    got = [json.loads(line) for line in out.splitlines()]
    tok = HmacTokenizer(KEY)
    max_days = _policy().date_shift_days
    patients = shifted = 0
    for before, after in zip(resources, got, strict=True):
        rtype = before["resourceType"]
        assert after["id"] == tok.tokens([f"{rtype}/{before['id']}"])[0].replace("_", "-")
        patients += rtype == "Patient"
        subject = before.get("subject", {}).get("reference")
        if not isinstance(subject, str):
            continue
        # the generator's NDJSON keeps urn:uuid references; each names its Patient's id
        assert subject.startswith("urn:uuid:")
        patient = f"Patient/{subject.removeprefix('urn:uuid:')}"
        token = tok.tokens([patient])[0]
        assert after["subject"]["reference"] == f"Patient/{token.replace('_', '-')}"
        if isinstance(before.get("onsetDateTime"), str):  # a date moved by its patient's offset
            days = int(tok.offset_days(tok.tokens([patient]), max_days)[0])
            moved = date.fromisoformat(before["onsetDateTime"]).toordinal() + days
            assert date.fromisoformat(after["onsetDateTime"]).toordinal() == moved
            shifted += 1
    assert patients == 4 and shifted == 4


def test_a_batch_scrubs_its_texts_as_one_column(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.ndjson"
    resources = _export(src, 3)
    calls: list[int] = []
    real = fhir_later.scrub_column

    def counting(col: Any, index: Any, counts: Any) -> Any:
        calls.append(len(col))
        return real(col, index, counts)

    monkeypatch.setattr(fhir_later, "scrub_column", counting)
    _run(tmp_path, src, "out.ndjson")
    assert len(calls) == 1 and calls[0] > len(resources)  # every text of the export at once
    calls.clear()
    monkeypatch.setattr(run_module, "BATCH_DOCS", 10)
    _run(tmp_path, src, "out10.ndjson")
    assert len(calls) == -(-len(resources) // 10)


def test_a_value_read_before_its_batch_is_resolved_is_an_error() -> None:
    slot = Slot()
    with pytest.raises(RuntimeError, match="before its batch was resolved"):
        slot.get()
    slot.set("tok")
    assert slot.get() == "tok"


def test_narrative_and_attachments_are_put_back_together(tmp_path: Path) -> None:
    """Values made of resolved parts: a narrative's text nodes between its markup, a
    note's text encoded again as base64."""
    src = tmp_path / "in.ndjson"
    note = "Ada Okafor seen today; call 617-555-0142."
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"given": ["Ada"],
                                                                 "family": "Okafor"}],
               "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/'
                        'xhtml"><p>Ada <b>Okafor</b></p>, 617-555-0142</div>'}}
    doc = {"resourceType": "DocumentReference", "id": "d1", "status": "current",
           "subject": {"reference": "Patient/p1"},
           "content": [{"attachment": {"contentType": "text/plain",
                                       "data": base64.b64encode(note.encode()).decode()}}]}
    src.write_text(json.dumps(patient) + "\n" + json.dumps(doc) + "\n")
    out, _ = _run(tmp_path, src, "out.ndjson")
    got = [json.loads(line) for line in out.splitlines()]
    assert got[0]["text"]["div"] == ('<div xmlns="http://www.w3.org/1999/xhtml"><p>[NAME] '
                                     '<b>[NAME]</b></p>, [PHONE]</div>')
    text = base64.b64decode(got[1]["content"][0]["attachment"]["data"]).decode()
    assert text == "[NAME] seen today; call [PHONE]."


@pytest.mark.parametrize("with_digests", [True, False], ids=["digests", "patterns-only"])
def test_the_residual_check_flags_what_the_per_string_walk_flags(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_digests: bool) -> None:
    """The validate stage's check of FHIR gathers every string and checks each location's
    as a column (free strings as free text): the same values flagged, location by
    location, as checking them one by one; and nothing in the scrubbed output."""
    src = tmp_path / "in.ndjson"
    _export(src, 5)
    run = Pseudonymizer(_policy(), None, KEY, source=src.name)
    out = tmp_path / "out.ndjson"
    pseudonymize_file(src, out, _policy(), run=run)
    digests = run.state.digests(run.index.key) if with_digests else None
    one_by_one = ResidualTally()
    for line in src.read_text().splitlines():
        scan_fhir(json.loads(line), digests, one_by_one)
    monkeypatch.setattr(residual_scan, "FHIR_GATHER", 100)  # several flushes
    gathered = scan_dataset([src.read_bytes()], "ndjson", digests)
    assert list(gathered.values.items()) == list(one_by_one.values.items())
    assert dict(gathered.hits) == dict(one_by_one.hits)
    assert one_by_one.hits["Observation.note"] == 10  # its author and text: free text
    assert one_by_one.hits["DocumentReference.content"] == 5  # base64 notes decoded
    assert scan_dataset([out.read_bytes()], "ndjson", digests).found == 0


def test_the_residual_check_reads_attachments_as_the_scrubber_does(tmp_path: Path) -> None:
    """A text attachment left unscrubbed is found (it is base64: read decoded), each time
    it occurs; content
    that is not text is a finding, since the scrubber drops it (fail closed); the
    scrubber's own output passes."""
    note = base64.b64encode(b"Seen with her son; call 617-555-0142.").decode()
    pdf = base64.b64encode(b"%PDF-1.4 discharge letter").decode()
    docs = [{"resourceType": "DocumentReference", "id": f"d{i}", "status": "current",
             "content": [{"attachment": {"contentType": ctype, "data": data}}]}
            for i, (ctype, data) in enumerate([("text/plain", note), ("application/pdf", pdf),
                                               ("text/plain", "not base64!"),
                                               ("text/plain", note)])]  # a repeated text
    raw = "".join(json.dumps(d) + "\n" for d in docs).encode()
    for gather in (True, False):
        if gather:
            tally = scan_dataset([raw], "ndjson", None)
        else:
            tally = ResidualTally()
            for d in docs:
                scan_fhir(d, None, tally)
        assert tally.hits["DocumentReference.content"] == 4
        assert tally.kinds["DocumentReference.content"]["PHONE"] == 2
        assert tally.kinds["DocumentReference.content"][residual_scan.UNREADABLE] == 2
    src, out = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_bytes(raw)
    pseudonymize_file(src, out, _policy(), hmac_key=KEY)
    assert scan_dataset([out.read_bytes()], "ndjson", None).found == 0
