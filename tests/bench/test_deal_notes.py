"""bench/_deid_corpus.deal_notes: a set's notes do not depend on which other sets are dealt."""

from __future__ import annotations

from bench._deid_corpus import SETS, deal_notes, make_identities


def _texts(notes, name):
    return [(n.text, n.identity["mrn"]) for n in notes if n.template_set == name and n.text]


def test_a_set_is_dealt_the_same_alone_and_among_all() -> None:
    people = make_identities(100, 3)
    alone = deal_notes(people, ["fresh-11"], 6, 3)
    among = deal_notes(people, list(SETS), 6, 3)
    assert len(_texts(alone, "fresh-11")) == 6
    assert _texts(alone, "fresh-11") == _texts(among, "fresh-11")
    assert _texts(among, "fresh-11") != _texts(deal_notes(people, ["fresh-11"], 6, 4), "fresh-11")


def test_every_identity_is_a_record() -> None:
    people = make_identities(100, 3)
    notes = deal_notes(people, ["tuned"], 5, 3)
    assert {id(n.identity) for n in notes} == {id(p) for p in people}
    assert len([n for n in deal_notes(people, ["tuned"], 5, 3, cover=False)]) == 5
