"""The history scan of ``test_no_phi_in_history``: it reads payloads decoded, and never the
base64 of a sealed payload, where a short string turns up by chance."""

from __future__ import annotations

import base64

from tests.workflows.test_no_phi_in_history import _fields, holding


def test_a_clear_payload_is_found_with_its_path() -> None:
    clear = base64.b64encode(b'{"features": ["age", "hba1c"]}').decode()
    fields: list[tuple[str, str]] = []
    _fields({"events": [{"input": {"payloads": [{"data": clear}]}}]}, "", fields)
    found = holding(fields, "hba1c")
    assert len(found) == 1 and found[0].startswith(".events[0].input.payloads[0].data (decoded)")


def test_base64_that_spells_the_string_is_not_a_finding() -> None:
    spelled = "hba1cAAA"  # valid base64 whose text is "hba1c...", whose bytes are not
    assert base64.b64encode(base64.b64decode(spelled)).decode() == spelled
    fields: list[tuple[str, str]] = []
    _fields({"events": [{"input": {"payloads": [{"data": spelled}]}}]}, "", fields)
    assert fields and not holding(fields, "hba1c")


def test_clear_fields_outside_payloads_are_searched() -> None:
    fields: list[tuple[str, str]] = []
    _fields({"events": [{"failure": {"message": "column hba1c is missing"}}]}, "", fields)
    assert holding(fields, "hba1c") == [".events[0].failure.message: ...'column hba1c is "
                                        "missing'..."]
