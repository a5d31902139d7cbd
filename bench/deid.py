"""De-identification quality and speed on a generated, labelled corpus of notes.

Generates identities (Faker, eight locales: apostrophes, accents, hyphenated and
multi-word names) and a table of records whose notes plant PHI in many written
forms, each planted span labelled with its HIPAA Safe Harbor category. Four
template sets (``bench/_deid_corpus.SETS``): ``tuned`` (the forms the scrubber
was written against), ``seen`` (the first held-out set: looked at while the
rules were improved), ``held-out`` (clinical note styles written before the
rules were changed for them, whose misses were then read while improving
them), ``fresh`` (other note styles written after the rules, committed
before their first run, later tuned on) and ``blind-dev`` / ``blind-test``
(``bench/_deid_blind.py``: written before reading any rule; ``blind-dev``'s
misses may be read while tuning; ``blind-test``'s were sealed until its first
figure, 92.85 %, was recorded, and are read since), ``sealed`` (``bench/_deid_sealed.py``:
a third blind set of other note styles, likewise never printed; its misses of seeds 1-6 were
read once in deid12, so it is held out no longer) and ``sealed-2``
(``bench/_deid_sealed2.py``: a fourth blind set, read in deid12d after its two recorded runs;
its misses print, it is held out no longer) and ``sealed-3`` (``bench/_deid_sealed3.py``:
a fifth blind set, read in deid12e after its two recorded runs; held out no longer) and
``sealed-4`` (``bench/_deid_sealed4.py``: a sixth blind set, read in deid12f after its two
recorded runs; held out no longer) and ``sealed-5`` (``bench/_deid_sealed5.py``: a seventh
blind set, written as ``sealed-4`` was read; read in deid12h after its recorded runs; held
out no longer) and ``sealed-6`` (``bench/_deid_sealed6.py``: an eighth blind set, written as
``sealed-5`` was read; never printed).
Runs the real pipeline (``Pseudonymizer``: first pass, policy, scrubber) and
prints:

* recall per category and template set: a planted span counts as caught when
  none of its distinctive tokens survives in that note's output (a word that
  labels a number or an age, ``LABEL_WORDS``, is never PHI: ``MRN [MRN]``);
* precision: PHI tokens removed over all tokens removed (placeholders put
  over non-PHI words are the false positives), overall and per category of
  the placeholder put over them (input and output tokens aligned);
* a sample of misses per set and category (``--misses``), for every set but
  those in ``SEALED`` (``sealed``, ``sealed-6``);
* throughput with notes on one core (rows/s, goal >= 50,000).

``--mode`` picks the notes' text mode (``grammar``: the default scrubber;
``safe-list``: the scrubber, then every word not on the safe list becomes
``[REDACTED]``; ``both``, the default: one after the other, then a
side-by-side table). ``[REDACTED]`` is scored as its own placeholder
category: a PHI token it removes counts as caught (it is gone), a non-PHI
token it removes as a false positive; precision is also printed per set.
``--sets`` limits the template sets (tune with ``sealed`` left out).

Every trial has a deadline; the bench starts no process and ends by itself
(SIGTERM/SIGINT stop it cleanly). Usage:
``.venv/bin/python bench/deid.py [--per-set 300] [--rows 200000] [--seed 1]
[--mode both|grammar|safe-list] [--sets tuned,seen,...]``
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bench._deid_corpus import FILLER, FILLERS, SETS, Note, deal_notes, make_identities  # noqa: E402
from bench._trials import TrialTimeout, deadline, stop_on_signals  # noqa: E402,F401
from medpipe.contracts.pseudonymize import FieldRule, Policy, TextMode  # noqa: E402

_TOKEN = re.compile(r"[^\W_]+")
_PLACEHOLDER = re.compile(r"\[[A-Z>0-9 +]+\]")


def policy(mode: TextMode = TextMode.GRAMMAR) -> Policy:
    """The records' policy: street and city are dropped without ``identifier: true``."""
    r = FieldRule
    return Policy(patient_id="patient_id", text_mode=mode, fields={
        "patient_id": r(action="token", placeholder="MRN"),
        "name": r(action="drop", identifier=True, placeholder="NAME"),
        "ssn": r(action="drop", identifier=True, placeholder="SSN"),
        "phone": r(action="drop", identifier=True, placeholder="PHONE"),
        "email": r(action="drop", identifier=True, placeholder="EMAIL"),
        "street": r(action="drop"), "city": r(action="drop"),
        "zip": r(action="generalize", kind="zip3"),
        "encounter_date": r(action="date_shift"),
        "notes": r(action="scrub")})


def table(notes: list[Note]) -> pa.Table:
    ids = [n.identity for n in notes]
    return pa.table({
        "patient_id": [i["mrn"] for i in ids], "name": [i["name"] for i in ids],
        "ssn": [i["ssn"] for i in ids], "phone": [i["phone"] for i in ids],
        "email": [i["email"] for i in ids], "street": [i["street"] for i in ids],
        "city": [i["city"] for i in ids], "zip": [i["zip"] for i in ids],
        "encounter_date": ["2023-05-04"] * len(ids), "notes": [n.text for n in notes]})


def pseudonymize(t: pa.Table, path: Path,
                 mode: TextMode = TextMode.GRAMMAR) -> tuple[pa.Table, float]:
    """Run the pipeline (first pass + stream) on one core; (output, CPU seconds of this
    process: the machine may be shared, and one core's work is what the goal is about)."""
    from medpipe.activities.pseudonymize import Vault
    from medpipe.activities.pseudonymize.run import Pseudonymizer

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    pq.write_table(t, path, row_group_size=131_072)
    out = path.with_suffix(".out.parquet")
    run = Pseudonymizer(policy(mode), Vault.in_memory(), source=path.name)
    t0 = time.process_time()
    run.learn_batches(pq.ParquetFile(path).iter_batches(131_072))
    with open(out, "wb") as f:
        for chunk in run.tabular_batches(pq.ParquetFile(path).iter_batches(131_072),
                                         "parquet"):
            f.write(chunk)
    return pq.read_table(out), time.process_time() - t0


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


#: Placeholder written by the scrubber → Safe Harbor category of this bench.
CATEGORY = {"NAME": "NAME", "ADDRESS": "GEO", "DATE": "DATE", "PHONE": "PHONE",
            "EMAIL": "EMAIL", "SSN": "SSN", "MRN": "MRN", "ID": "MRN", "URL": "URL",
            "IP": "IP", "AGE>89": "AGE", "REDACTED": "REDACTED"}


#: Words that say which kind of number a span holds or which unit an age is in (``MRN``,
#: ``acct no.``, ``SSN:``, ``age``, ``year old``, ``y/o``): they identify no one (45 CFR
#: 164.514(b)(2) lists the numbers and the ages over 89, not their labels), and a reader needs
#: them to know what was removed. The sets disagree on them (``tuned`` and ``seen`` label
#: ``mrn 12345`` and ``92-year-old`` whole, the blind sets ``12345`` and ``92`` alone), so a
#: planted span's tokens among these words count as neither PHI nor distinctive: the label
#: words of every set are scored alike, kept or removed.
LABEL_WORDS: dict[str, frozenset[str]] = {
    "MRN": frozenset(
        "mrn mr medical med record rec chart number num no id pt patient acct account unit"
        " hospital hosp member subscriber policy claim group encounter csn mbi hicn beneficiary"
        " medicaid medicare insurance accession acc rx prescription specimen requisition case"
        " authorization auth referral order document visit admission har serial vin license"
        " licence lic dea npi certificate cert plate dl tag device confirmation reference ref"
        " ticket employee badge".split()),
    "SSN": frozenset("ssn ss soc sec social security number no".split()),
    "AGE": frozenset("age aged year years yr yrs old yo y o".split()),
}


def _phi_mask(note: Note) -> list[bool]:
    """For each token of the note: whether it lies in a planted span (and is no label word
    of the span's category, ``LABEL_WORDS``)."""
    cover: list[str | None] = [None] * len(note.text)
    at = 0
    for span in note.spans:
        i = note.text.find(span.text, at)
        if i < 0:
            i = note.text.find(span.text)
        if i >= 0:
            cover[i:i + len(span.text)] = [span.category] * len(span.text)
            at = i + len(span.text)
    mask = []
    for m in _TOKEN.finditer(note.text):
        cats = {c for c in cover[m.start():m.end()] if c is not None}
        mask.append(any(m.group().lower() not in LABEL_WORDS.get(c, ()) for c in cats))
    return mask


def _removed(note: Note, out: str) -> list[tuple[bool, str, str]]:
    """(is PHI, category of the placeholder put over it, the removed run with a token of
    context either side) for every token removed.

    The note's tokens are aligned with the output's (placeholders as single
    tokens); a removed run is charged to the first placeholder that replaced it.
    """
    mask = _phi_mask(note)
    before = tokens(note.text)
    after: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(out):
        after += tokens(out[last:m.start()]) + [m.group()]
        last = m.end()
    after += tokens(out[last:])
    sm = difflib.SequenceMatcher(None, before, after, autojunk=False)
    removed = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op in ("replace", "delete"):
            marks = [t[1:-1] for t in after[j1:j2] if t.startswith("[")]
            cat = CATEGORY.get(marks[0], "?") if marks else "?"
            run = " ".join(before[max(0, i1 - 2):i2 + 2])
            removed += [(mask[i], cat, run) for i in range(i1, i2)]
    return removed


#: The sets whose misses are never printed (``blind-test`` was sealed until its first figure,
#: 92.85 %, was recorded; read since). ``sealed``'s misses were read once, seeds 1-6, in
#: deid12 (issue 12, at the lead's request, docs/deid.md): still not printed here, but its
#: figure is no longer a held-out one; a new sealed set is needed for that. ``sealed-2``
#: (``bench/_deid_sealed2.py``, written blind, committed before its first run) was held out
#: until it was read in round deid12d, after its two recorded runs (docs/deid.md: the first,
#: then once after deid12c's rules): its misses print since, and it is held out no longer.
#: ``sealed-3`` (``bench/_deid_sealed3.py``, written blind, committed before its first run)
#: took its place until it was read in round deid12e, after its two recorded runs (the first,
#: then once after deid12d's rules): its misses print since, and it is held out no longer.
#: ``sealed-4`` (``bench/_deid_sealed4.py``, written blind as ``sealed-3``'s misses were read,
#: committed before its first run) was held out until it was read in round deid12f, after its
#: two recorded runs (the first, then once after deid12e's rules): its misses print since, and
#: it is held out no longer. ``sealed-5`` (``bench/_deid_sealed5.py``) was written blind as
#: ``sealed-4``'s misses were read (deid12f), committed before its first run, and held out
#: until it was read in round deid12h, after its recorded runs (the first, then once after
#: deid12f's and once after deid12g's rules): its misses print since, and it is held out no
#: longer. ``sealed-6`` (``bench/_deid_sealed6.py``) was written blind as ``sealed-5``'s misses
#: were read, committed before its first run: its misses are never printed, so its figure is
#: the honest held-out one.
SEALED = frozenset({"sealed", "sealed-6"})


def score(notes: list[Note], outputs: list[str],
          by_set: dict[str, list[int]] | None = None,
          false_pos: Counter[tuple[str, str, str]] | None = None,
          ) -> tuple[dict[tuple[str, str], list[int]], dict[str, list[int]],
                     list[tuple[str, str, str, str]]]:
    """(caught/planted per (set, category), [PHI, non-PHI] tokens removed per category,
    misses as (set, category, planted span, output) for every set not in ``SEALED``);
    ``by_set``, when given, gets [PHI, non-PHI] tokens removed per template set;
    ``false_pos``, when given, counts the non-PHI runs removed as (set, category, run),
    for every set not in ``SEALED``."""
    recall: dict[tuple[str, str], list[int]] = {}
    misses: list[tuple[str, str, str, str]] = []
    removed: dict[str, list[int]] = {}
    filler_words = {t for f in (FILLER, *FILLERS.values()) for s in f for t in tokens(s)}
    for note, out in zip(notes, outputs, strict=True):
        left = Counter(tokens(_PLACEHOLDER.sub(" ", out)))
        rest = note.text
        for span in note.spans:
            rest = rest.replace(span.text, " ")
        context = set(tokens(rest))  # words of the note outside any planted span
        for span in note.spans:
            labels = LABEL_WORDS.get(span.category, frozenset())
            distinctive = [t for t in tokens(span.text) if t not in filler_words
                           and t not in context and t not in labels
                           and not (span.category == "DATE" and re.fullmatch(r"\d{4}", t))
                           and len(t) >= 2]
            leaked = any(left[t] for t in distinctive)
            if leaked and note.template_set not in SEALED:
                misses.append((note.template_set, span.category, span.text, out))
            tally = recall.setdefault((note.template_set, span.category), [0, 0])
            tally[0] += 0 if leaked else 1
            tally[1] += 1
        for phi, cat, run in _removed(note, out):
            removed.setdefault(cat, [0, 0])[0 if phi else 1] += 1
            if false_pos is not None and not phi and note.template_set not in SEALED:
                false_pos[(note.template_set, cat, run)] += 1
            if by_set is not None:
                by_set.setdefault(note.template_set, [0, 0])[0 if phi else 1] += 1
    return recall, removed, misses


def print_false_positives(false_pos: Counter[tuple[str, str, str]], per: int) -> None:
    """The ``per`` most frequent non-PHI runs removed per placeholder category (never of a
    set in ``SEALED``: ``score`` leaves them out)."""
    cats: dict[str, list[tuple[int, str, str]]] = {}
    for (s, cat, run), n in false_pos.items():
        cats.setdefault(cat, []).append((n, s, run))
    for cat, found in sorted(cats.items()):
        print(f"false positives {cat}: {sum(n for n, _, _ in found)} tokens")
        for n, s, run in sorted(found, reverse=True)[:per]:
            print(f"  {n:>5} {s:<11} {run}")


def print_misses(misses: list[tuple[str, str, str, str]], per: int, rng: random.Random) -> None:
    """A sample of ``per`` misses per (set, category), never of a set in ``SEALED``."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for s, cat, span, out in misses:
        if s not in SEALED:
            groups.setdefault((s, cat), []).append((span, out))
    for (s, cat), found in sorted(groups.items()):
        print(f"misses {s} {cat}: {len(found)}")
        for span, out in rng.sample(found, min(per, len(found))):
            first = next((t for t in tokens(span) if t in tokens(out)), "")
            at = out.lower().find(first) if first else 0
            line = out[max(0, at - 70):at + 70].replace("\n", " | ")
            print(f"  {span!r:<40} ...{line}...")


Quality = tuple[dict[tuple[str, str], list[int]], dict[str, list[int]], dict[str, list[int]]]


def print_quality(mode: str, notes: list[Note], sets: list[str], recall: dict[tuple[str, str],
                  list[int]], removed: dict[str, list[int]], by_set: dict[str, list[int]],
                  misses: list[tuple[str, str, str, str]], n_misses: int, seed: int) -> None:
    """One mode's tables: recall per category and set, precision per category and set."""
    print(f"== text mode {mode}: recall per Safe Harbor category and template set (tuned: "
          "written against; seen: the first held-out set; held-out: written before the rules, "
          "read while tuning; fresh: written after the rules, then tuned on; "
          "blind-dev/blind-test: written blind, both read since; sealed-N: written blind, "
          "each read in a later round once its recorded runs were made; still held out, misses "
          f"never printed: {', '.join(sorted(SEALED))}), precision per placeholder category")
    print(f"{'category':<9}" + "".join(f"{s:>19}" for s in sets) + f"{'precision':>22}")
    cats = sorted({c for _, c in recall} | {c for c in removed if c != "?"})
    for cat in cats:
        cells = []
        for s in sets:
            c, n = recall.get((s, cat), [0, 0])
            cells.append(f"{100 * c / n:6.2f}% ({c}/{n})" if n else "-")
        ok, bad = removed.get(cat, [0, 0])
        prec = f"{100 * ok / (ok + bad):6.2f}% ({bad} FP)" if ok + bad else "-"
        print(f"{cat:<9}" + "".join(f"{c:>19}" for c in cells) + f"{prec:>22}")
    for s in sets:
        c = sum(v[0] for (ts, _), v in recall.items() if ts == s)
        n = sum(v[1] for (ts, _), v in recall.items() if ts == s)
        worst = min((100 * v[0] / v[1], cat) for (ts, cat), v in recall.items() if ts == s)
        ok, bad = by_set.get(s, [0, 0])
        print(f"recall {s}: {100 * c / n:.2f}% overall, lowest {worst[1]} {worst[0]:.2f}% "
              f"(goal >= 99% in every category); precision {100 * ok / max(1, ok + bad):.2f}% "
              f"({bad:,} non-PHI tokens removed)")
    if n_misses:
        print_misses(misses, n_misses, random.Random(seed))
    tp = sum(v[0] for v in removed.values())
    fp = sum(v[1] for v in removed.values())
    print(f"precision: {100 * tp / max(1, tp + fp):.2f}% ({tp:,} PHI tokens removed, {fp:,} "
          f"non-PHI tokens removed; goal >= 90%)")


def print_side_by_side(sets: list[str], results: dict[str, Quality],
                       speed: dict[str, float]) -> None:
    """Recall per category (all sets shown together), precision per set, rows/s: per mode."""
    modes = list(results)
    print("== side by side: recall per category over the sets run, precision per set, "
          "throughput")
    print(f"{'':<22}" + "".join(f"{m:>26}" for m in modes))
    cats = sorted({c for r in results.values() for _, c in r[0]})
    for cat in cats:
        cells = []
        for m in modes:
            c = sum(v[0] for (_, k), v in results[m][0].items() if k == cat)
            n = sum(v[1] for (_, k), v in results[m][0].items() if k == cat)
            cells.append(f"{100 * c / n:7.2f}% ({c}/{n})" if n else "-")
        print(f"{'recall ' + cat:<22}" + "".join(f"{c:>26}" for c in cells))
    for s in sets:
        cells = []
        for m in modes:
            c = sum(v[0] for (ts, _), v in results[m][0].items() if ts == s)
            n = sum(v[1] for (ts, _), v in results[m][0].items() if ts == s)
            cells.append(f"{100 * c / max(1, n):7.2f}%")
        print(f"{'recall ' + s:<22}" + "".join(f"{c:>26}" for c in cells))
    for s in [*sets, "all"]:
        cells = []
        for m in modes:
            by_set = results[m][2]
            ok, bad = (by_set.get(s, [0, 0]) if s != "all" else
                       [sum(v[0] for v in by_set.values()), sum(v[1] for v in by_set.values())])
            cells.append(f"{100 * ok / max(1, ok + bad):7.2f}% ({bad:,} FP)")
        print(f"{'precision ' + s:<22}" + "".join(f"{c:>26}" for c in cells))
    print(f"{'rows/s (1 core, CPU)':<22}" + "".join(
        f"{speed[m]:>26,.0f}" if m in speed else f"{'-':>26}" for m in modes))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-set", type=int, default=300,
                    help="labelled notes of each template set, for quality (each set its own "
                    "random stream: a set's notes do not depend on which other sets run)")
    ap.add_argument("--identities", type=int, default=500,
                    help="identities (records) the notes belong to and name")
    ap.add_argument("--rows", type=int, default=200_000, help="rows for throughput")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trial-seconds", type=float, default=300.0)
    ap.add_argument("--misses", type=int, default=3,
                    help="print this many misses per set and category (never "
                    f"{', '.join(sorted(SEALED))})")
    ap.add_argument("--false-positives", type=int, default=0,
                    help="print this many most frequent non-PHI runs removed per placeholder "
                    f"category (never of {', '.join(sorted(SEALED))})")
    ap.add_argument("--mode", choices=["both", *(m.value for m in TextMode)], default="both",
                    help="text mode of the notes column (both: one after the other)")
    ap.add_argument("--sets", default=",".join(SETS),
                    help="template sets, comma-separated (default: all)")
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        ap.error(f"unknown template sets: {', '.join(unknown)} (known: {', '.join(SETS)})")
    modes = list(TextMode) if args.mode == "both" else [TextMode(args.mode)]

    stop_on_signals()
    people = make_identities(max(100, args.identities), args.seed)
    notes = deal_notes(people, sets, args.per_set, args.seed)
    print(f"labelled corpus: {len(notes):,} notes, {len(people):,} identities, "
          f"{sum(len(n.spans) for n in notes):,} planted PHI spans")
    results: dict[str, Quality] = {}
    for mode in modes:
        with tempfile.TemporaryDirectory() as d, deadline(args.trial_seconds):
            out, _ = pseudonymize(table(notes), Path(d) / "quality.parquet", mode)
            by_set: dict[str, list[int]] = {}
            false_pos: Counter[tuple[str, str, str]] = Counter()
            recall, removed, misses = score(notes, out.column("notes").to_pylist(), by_set,
                                            false_pos)
        results[mode.value] = (recall, removed, by_set)
        print_quality(mode.value, notes, sets, recall, removed, by_set, misses, args.misses,
                      args.seed)
        if args.false_positives:
            print_false_positives(false_pos, args.false_positives)
    speed: dict[str, float] = {}
    if args.rows:
        # every row its own note: the scrubber looks at a repeated text once, so copies of
        # a smaller set would measure the cache, not the scrubber
        big = table(deal_notes(people, sets, -(-args.rows // len(sets)), args.seed, "rows",
                               cover=False)[:args.rows])
        for mode in modes:
            with tempfile.TemporaryDirectory() as d, deadline(args.trial_seconds):
                _, seconds = pseudonymize(big, Path(d) / "speed.parquet", mode)
            speed[mode.value] = args.rows / seconds
            print(f"throughput with notes, one core, text mode {mode.value}: "
                  f"{args.rows / seconds:,.0f} rows/s ({args.rows:,} rows in {seconds:.2f} CPU "
                  "s, first pass included; goal >= 50,000)")
    if len(modes) > 1:
        print_side_by_side(sets, results, speed)


if __name__ == "__main__":
    main()
