"""Which pass removes each non-PHI run of ``bench/deid.py``'s labelled notes, per template set.

``bench/deid.py --false-positives N`` prints the most frequent non-PHI runs removed, by the
placeholder put over them; it does not say which pass put it there, and a precision round
has to know whether a run is the known-value pass (another patient's name found in a note:
``knownuse``, ``columnar._word_use``, ``detect.known_spans``), a pattern, or a context rule.
This bench deals the same notes (``deal_notes``: same seed, same sets, same per-set count),
runs the real pipeline once (first pass, index), then reads every note's original text with
each source alone (``deid_fixpoint.sources``: a pattern, the known values, each rule) and
charges every non-PHI token a source covers to that source. It prints, per set, the non-PHI
tokens per source and the ``--top`` most frequent (source, run) pairs.

Sets in ``bench.deid.SEALED`` are counted (tokens per source), never printed.
Usage: ``.venv/bin/python bench/deid_fpsource.py [--per-set 300] [--seed 1] [--top 15]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._deid_corpus import SETS, deal_notes, make_identities  # noqa: E402
from bench._trials import deadline, stop_on_signals  # noqa: E402
from bench.deid import _TOKEN, SEALED, _phi_mask, table  # noqa: E402
from bench.deid_fixpoint import run  # noqa: E402
from medpipe.activities.deid import detect, rules  # noqa: E402
from medpipe.activities.deid.normalize import fold  # noqa: E402
from medpipe.activities.deid.patterns import find as pattern_spans  # noqa: E402
from medpipe.activities.residual import DigestSet  # noqa: E402


def spans_by_source(text: str, digests: DigestSet) -> list[tuple[str, int, int]]:
    """(source, start, end) of every finding in ``text``, each source read alone; offsets in
    the folded text, which equal the text's own for the ASCII notes of the bench."""
    folded, _ = fold(text)
    out = [(f"pattern:{ph.value}", s, e) for s, e, ph in pattern_spans(folded)]
    out += [("known", s, e) for s, e, _ in detect.known_spans(folded, digests.find)]
    for rule in rules.table():
        out += [(f"rule:{rule.name}", s, e) for s, e, _ in rules.find(folded, [rule]) if e > s]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-set", type=int, default=300)
    ap.add_argument("--identities", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--trial-seconds", type=float, default=1200.0)
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    stop_on_signals()
    people = make_identities(max(100, args.identities), args.seed)
    notes = deal_notes(people, sets, args.per_set, args.seed)
    with tempfile.TemporaryDirectory() as d, deadline(args.trial_seconds):
        _, _, digests = run(table(notes), Path(d))
    per_source: dict[str, Counter[str]] = {s: Counter() for s in sets}
    per_run: dict[str, Counter[tuple[str, str]]] = {s: Counter() for s in sets}
    for note in notes:
        if not note.text:
            continue
        found = spans_by_source(note.text, digests)
        if not found:
            continue
        toks = list(_TOKEN.finditer(note.text))
        low = [m.group().lower() for m in toks]
        for i, (m, phi) in enumerate(zip(toks, _phi_mask(note), strict=True)):
            if phi:
                continue
            for src in sorted({src for src, s, e in found if s < m.end() and m.start() < e}):
                per_source[note.template_set][src] += 1
                per_run[note.template_set][(src, " ".join(low[max(0, i - 2):i + 3]))] += 1
    print(f"non-PHI tokens covered per source (seed {args.seed}, {args.per_set} notes per set; "
          "a token two sources cover counts for both)")
    for s in sets:
        line = ", ".join(f"{src} {n}" for src, n in per_source[s].most_common())
        print(f"{s:<11} {sum(per_source[s].values()):>5}  {line}")
        if s in SEALED:
            continue
        for (src, ctx), n in per_run[s].most_common(args.top):
            print(f"    {n:>5} {src:<24} {ctx}")


if __name__ == "__main__":
    main()
