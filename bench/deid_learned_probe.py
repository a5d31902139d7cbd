"""Would a learned tagger catch what the rules leave? A probe, not a scrubber.

Eleven rounds of general rules each lifted the round's own generated set to
~99 % recall and left the blind ``sealed`` set where it was (~96.6-96.9 %
over seeds, GEO ~86 %). The usual next step is a statistical tagger over
the rules' output. This probe measures, before anyone builds one, what such
a tagger learns from the data we have: the labelled generators of
``bench/_deid_corpus.SETS``.

It trains a token classifier (logistic regression over hashed features: the
word, its shape and affixes, whether the shipped given-name, family-name,
place and English-word lists hold it, and the same for two words either
side, placeholders included) on the notes of every set but ``sealed`` and
the ``--holdout`` sets, both as written (planted spans labelled with their
category) and as the rules leave them. It then tags the rules' output of
another seed's notes; a token whose most likely category is not "none" with
probability >= a threshold becomes that category's placeholder. For the
held-out sets (generators the tagger never saw: the honest case) and for
``sealed`` (figures only, as everywhere), it prints recall and precision of
the rules alone and of rules + tagger per threshold, the tagger's CPU per
token, and the held-out sets' most frequent non-PHI runs the tagger removed
(never ``sealed``'s).

What it cannot say: how a tagger trained on real annotated notes would do
(none ship here). What it can: whether our generated corpora are enough to
teach one, and what a gain on an unseen writer costs in precision.

Every trial has a deadline; the probe starts no process and ends by itself
(SIGTERM/SIGINT stop it). Usage: ``./run bench deid_learned_probe
[--train-seed 11] [--seed 1] [--per-set 200] [--holdout fresh-10,fresh-11,blind-test]
[--thresholds 0.5,0.8,0.95,0.99] [--false-positives 20]``
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._deid_corpus import SETS, Note, deal_notes, make_identities  # noqa: E402
from bench._trials import deadline, stop_on_signals  # noqa: E402
from bench.deid import SEALED, pseudonymize, score, table  # noqa: E402

#: A placeholder, a word (an apostrophe inside it kept), or one other character.
TOKEN = re.compile(r"\[[A-Z>0-9 +]+\]|[^\W_]+(?:['’][^\W_]+)?|\S")
NONE = "O"


class Features:
    """Token features from the shipped lists (the scrubber's own: no other data)."""

    def __init__(self) -> None:
        from medpipe.activities.deid.geo import gazetteer
        from medpipe.activities.deid.namelists import dictionary
        from medpipe.activities.deid.safelist import english

        gaz = gazetteer()
        self.given, self.family = dictionary()
        self.places, self.regions = gaz.places, gaz.regions
        self.english = english()

    def word(self, w: str, at: str) -> dict[str, str | float]:
        if w.startswith("["):
            return {f"{at}ph={w}": 1.0}
        low = w.lower()
        f: dict[str, str | float] = {f"{at}lo={low}": 1.0, f"{at}sh={shape(w)}": 1.0}
        for name, held in (("title", w.istitle()), ("upper", w.isupper() and len(w) > 1),
                           ("digit", w.isdigit()), ("english", low in self.english),
                           ("given", low in self.given), ("family", low in self.family),
                           ("place", low in self.places), ("region", low in self.regions)):
            if held:
                f[f"{at}{name}"] = 1.0
        return f

    def tokens(self, words: list[str]) -> list[dict[str, str | float]]:
        rows = []
        for i, w in enumerate(words):
            f = {"bias": 1.0, f"suf3={w[-3:].lower()}": 1.0, f"pre3={w[:3].lower()}": 1.0}
            f.update(self.word(w, ""))
            for d in (-2, -1, 1, 2):
                j = i + d
                if not 0 <= j < len(words):
                    f[f"{d}:edge"] = 1.0
                    continue
                near = self.word(words[j], f"{d}:")
                if abs(d) == 2:  # two away: the word and its case only
                    near = {k: v for k, v in near.items() if "lo=" in k or "ph=" in k
                            or k.endswith("title")}
                f.update(near)
            rows.append(f)
        return rows


def shape(w: str) -> str:
    """``McDonald`` → ``XxXx``: letters and digits by class, runs cut to two."""
    s = re.sub(r"\d", "d", re.sub(r"[a-z]", "x", re.sub(r"[A-Z]", "X", w)))
    return re.sub(r"(.)\1+", r"\1\1", s)


def as_written(note: Note) -> tuple[list[str], list[str]]:
    """The note's tokens, each labelled with its planted span's category (or none)."""
    spans: list[tuple[int, int, str]] = []
    for s in note.spans:
        k = note.text.find(s.text)
        while k >= 0 and any(a <= k < b for a, b, _ in spans):
            k = note.text.find(s.text, k + 1)
        if k >= 0:
            spans.append((k, k + len(s.text), s.category))
    words, labels = [], []
    for m in TOKEN.finditer(note.text):
        words.append(m.group())
        labels.append(next((c for a, b, c in spans if a <= m.start() < b), NONE))
    return words, labels


def as_left(note: Note, out: str) -> tuple[list[str], list[str]]:
    """The rules' output of the note, a surviving planted word labelled with its category."""
    phi: dict[str, str] = {}
    for s in note.spans:
        for m in TOKEN.finditer(s.text):
            phi.setdefault(m.group(), s.category)
    words = [m.group() for m in TOKEN.finditer(out)]
    return words, [NONE if w.startswith("[") else phi.get(w, NONE) for w in words]


def scrubbed(notes: list[Note], seconds: float) -> list[str]:
    with tempfile.TemporaryDirectory() as d, deadline(seconds):
        out, _ = pseudonymize(table(notes), Path(d) / "notes.parquet")
    return out.column("notes").to_pylist()


def train(feats: Features, notes: list[Note], outs: list[str]):  # noqa: ANN201 (sklearn)
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.linear_model import SGDClassifier

    rows: list[dict[str, str | float]] = []
    labels: list[str] = []
    for note, out in zip(notes, outs, strict=True):
        if not note.text:
            continue
        for words, labs in (as_written(note), as_left(note, out)):
            rows.extend(feats.tokens(words))
            labels.extend(labs)
    hasher = FeatureHasher(n_features=2**20, input_type="dict", alternate_sign=False)
    model = SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=20, tol=None, random_state=0)
    model.fit(hasher.transform(rows), labels)
    return hasher, model, len(labels)


def tag(feats: Features, hasher, model, outs: Iterable[str],  # noqa: ANN001
        ) -> tuple[list[list[tuple[int, int, str, float]]], int, float]:
    """Per output: (start, end, category, probability) of every token the model does not
    call none; the tokens seen and the CPU seconds."""
    t0 = time.process_time()
    found, seen = [], 0
    classes = list(model.classes_)
    for out in outs:
        ms = [m for m in TOKEN.finditer(out)]
        seen += len(ms)
        if not ms:
            found.append([])
            continue
        probs = model.predict_proba(hasher.transform(feats.tokens([m.group() for m in ms])))
        hits = []
        for m, p in zip(ms, probs, strict=True):
            best = int(p.argmax())
            if classes[best] != NONE and not m.group().startswith("["):
                hits.append((m.start(), m.end(), classes[best], float(p[best])))
        found.append(hits)
    return found, seen, time.process_time() - t0


def placed(out: str, hits: list[tuple[int, int, str, float]], threshold: float) -> str:
    for start, end, cat, p in sorted(hits, reverse=True):
        if p >= threshold:
            out = out[:start] + f"[{cat}]" + out[end:]
    return out


def report(name: str, notes: list[Note], outs: list[str], sets: list[str],
           holdout: set[str], per: int, before: Counter[tuple[str, str, str]] | None = None,
           ) -> Counter[tuple[str, str, str]]:
    """Print recall and precision per set; then, past ``before`` (the rules' own), the
    ``per`` most frequent non-PHI runs removed in the held-out sets. The runs removed."""
    by_set: dict[str, list[int]] = {}
    false_pos: Counter[tuple[str, str, str]] = Counter()
    recall, _, _ = score(notes, outs, by_set, false_pos)
    print(f"== {name}")
    for s in sets:
        cats = {c: v for (ss, c), v in recall.items() if ss == s}
        ok, total = sum(v[0] for v in cats.values()), sum(v[1] for v in cats.values())
        low = sorted((100 * v[0] / v[1], c) for c, v in cats.items())[:3]
        phi, other = by_set.get(s, [0, 0])
        print(f"  {s:<11} recall {100 * ok / max(1, total):6.2f} %  lowest "
              + ", ".join(f"{c} {p:.1f}" for p, c in low)
              + f"  precision {100 * phi / max(1, phi + other):6.2f} % ({other:,} non-PHI removed)")
    if per:
        top = Counter({k: n for k, n in false_pos.items() if k[0] in holdout})
        top.subtract(before or Counter())
        print(f"  the tagger's most frequent non-PHI runs removed ({', '.join(sorted(holdout))}):")
        for (s, cat, run), n in top.most_common(per):
            if n > 0:
                print(f"    {n:>5} {s:<11} {cat:<6} {run}")
    return false_pos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-seed", type=int, default=11)
    ap.add_argument("--seed", type=int, default=1, help="the seed of the notes tagged")
    ap.add_argument("--per-set", type=int, default=200)
    ap.add_argument("--holdout", default="fresh-10,fresh-11,blind-test",
                    help="sets left out of training (with sealed, always)")
    ap.add_argument("--thresholds", default="0.5,0.8,0.95,0.99")
    ap.add_argument("--false-positives", type=int, default=20,
                    help="the held-out sets' most frequent non-PHI runs removed, per threshold")
    ap.add_argument("--trial-seconds", type=float, default=900.0)
    args = ap.parse_args()
    holdout = {s for s in args.holdout.split(",") if s}
    unknown = holdout - set(SETS)
    if unknown:
        ap.error(f"unknown sets: {', '.join(sorted(unknown))} (known: {', '.join(SETS)})")
    thresholds = [float(t) for t in args.thresholds.split(",")]
    stop_on_signals()
    feats = Features()

    train_sets = [s for s in SETS if s not in SEALED and s not in holdout]
    notes = deal_notes(make_identities(500, args.train_seed), train_sets, args.per_set,
                       args.train_seed)
    outs = scrubbed(notes, args.trial_seconds)
    t0 = time.process_time()
    with deadline(args.trial_seconds):
        hasher, model, n_tokens = train(feats, notes, outs)
    print(f"trained on {len(train_sets)} sets, {len(notes):,} notes (seed {args.train_seed}), "
          f"{n_tokens:,} labelled tokens, {time.process_time() - t0:.1f} CPU-s; "
          f"held out: {', '.join(sorted(holdout | set(SEALED)))}")

    eval_sets = [s for s in SETS if s in holdout or s in SEALED]
    notes = deal_notes(make_identities(500, args.seed), eval_sets, args.per_set, args.seed)
    outs = scrubbed(notes, args.trial_seconds)
    with deadline(args.trial_seconds):
        found, seen, cpu = tag(feats, hasher, model, outs)
    print(f"tagged {seen:,} tokens of the rules' output (seed {args.seed}) in {cpu:.1f} CPU-s: "
          f"{seen / max(cpu, 1e-9):,.0f} tokens per CPU-s")
    rules = report("rules alone", notes, outs, eval_sets, holdout, 0)
    for t in thresholds:
        report(f"rules + tagger, probability >= {t}", notes,
               [placed(o, h, t) for o, h in zip(outs, found, strict=True)], eval_sets, holdout,
               args.false_positives, rules)


if __name__ == "__main__":
    main()
