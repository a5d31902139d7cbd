"""Which kinds of place below a state the free-text scrubber catches: a small probe (recall11).

Safe Harbor (45 CFR 164.514(b)(2)(i)(B)) takes every geographic subdivision smaller than a
state: street address, city, county, precinct, ZIP code and their equivalent geocodes. This
probe writes each *kind* of place as clinical text holds it, one or two plain sentences per
kind, with places no list holds (invented by Faker's ``en_US`` city and street providers,
and made-up words) unless the kind is about known places, scrubs every sentence by the
one-text path and the column path with no record (no known values: the rules alone), and
prints per kind the share of sentences from which the place is gone on both paths.

It is not a corpus of the bench (no labels beyond the place's own words, no filler, no
traps): it answers "which kinds does the scrubber see at all", to choose what ``fresh-11``
(``bench/_deid_recall11.py``) aims at. It never reads the sealed set.

Usage: ``python bench/deid_places_probe.py [--per 40] [--seed 1] [--show 0]``.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from collections.abc import Callable

import pyarrow as pa

#: A sentence and the words of its place that must be gone.
Probe = Callable[[random.Random, str, str], tuple[str, list[str]]]

_SYL = ("ka", "ro", "ben", "dal", "mir", "to", "va", "sel", "gor", "lin", "que", "zam")
KINDS_OF_STREET = ("Street", "Avenue", "Road", "Lane", "Drive", "Court", "Pike", "Trail")
#: Known places that are also English words or family names (GeoNames, >= 15,000 people).
WORD_PLACES = ("Mobile", "Reading", "Bath", "Normal", "Independence", "Florence", "Lawrence",
               "Warren", "Jackson", "Marion", "Aurora", "Eagan", "Plantation", "Orange")


def _invented(r: random.Random) -> str:
    return "".join(r.choice(_SYL) for _ in range(3)).capitalize()


def _words(v: str) -> list[str]:
    return [w for w in re.split(r"[ ,]+", v) if w]


def _numbered(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
    return f"She lives at {r.randint(2, 9899)} {s} {r.choice(KINDS_OF_STREET)} with her son.", [s]


def _zip(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
    z = str(r.randint(10000, 99899))
    return f"Lives in the {z} zip, far from clinic.", [z]


def _zip4(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
    z = str(r.randint(10000, 99899))
    return f"Mail returned: {z}-{r.randint(1000, 9999)} undeliverable.", [z]


def _postcode(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
    half = f"M{r.randint(1, 9)}V"
    return f"Canadian address, postal code {half} {r.randint(1, 9)}T{r.randint(1, 9)}.", [half]


def _word_place(template: str) -> Probe:
    def probe(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
        v = r.choice(WORD_PLACES)
        return template.format(v), [v]
    return probe


def _latlon(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
    lat = f"{r.uniform(25, 48):.4f}"
    return f"EMS found her at {lat}, {r.uniform(-123, -70):.4f}.", [lat]


def _tract(r: random.Random, t: str, s: str) -> tuple[str, list[str]]:
    v = f"{r.randint(1000, 9999)}.{r.randint(1, 99):02d}"
    return f"Census tract {v} flagged for outreach.", [v]


PROBES: dict[str, list[Probe]] = {
    "street+number in prose": [_numbered],
    "street, no number": [
        lambda r, t, s: (f"Picks up meds at the pharmacy on {s} {r.choice(KINDS_OF_STREET)}.",
                         [s]),
    ],
    "town after a cue (invented)": [
        lambda r, t, s: (f"Lives in {t} with her husband.", _words(t)),
        lambda r, t, s: (f"He is from {t} originally.", _words(t)),
    ],
    "town, no cue": [
        lambda r, t, s: (f"{t} EMS brought him in after the fall.", _words(t)),
        lambda r, t, s: (f"Works at the {t} Walmart on weekends.", _words(t)),
    ],
    "town lower case (dictation)": [
        lambda r, t, s: (f"patient lives in {t.lower()} with wife", _words(t.lower())),
        lambda r, t, s: (f"she drove up from {t.lower()} this morning", _words(t.lower())),
    ],
    "facility named after a town": [
        lambda r, t, s: (f"Transferred from {t} General for a higher level of care.",
                         _words(t)),
        lambda r, t, s: (f"Dialysis at {t} Regional Medical Center MWF.", _words(t)),
    ],
    "county": [
        lambda r, t, s: (f"Covered by {s} County Medicaid.", [s]),
        lambda r, t, s: (f"the {s.lower()} county health dept called", [s.lower()]),
    ],
    "township, village, precinct, borough": [
        lambda r, t, s: (f"Lives in {s} Township, on a farm.", [s]),
        lambda r, t, s: (f"The Village of {t} has no pharmacy.", _words(t)),
        lambda r, t, s: (f"Votes in precinct {r.randint(2, 99)} of {s} Ward.", [s]),
    ],
    "ZIP alone": [_zip],
    "ZIP+4": [_zip4],
    "foreign postcode": [_postcode],
    "place name that is a word": [_word_place("Moved here from {} in May."),
                                  _word_place("Her sister in {} will take her.")],
    "landmark named after a town": [
        lambda r, t, s: (f"Fell while hiking at {t} State Park.", _words(t)),
        lambda r, t, s: (f"Graduated from {t} High School in 1998.", _words(t)),
    ],
    "geocode": [_latlon, _tract],
    "area / -based": [
        lambda r, t, s: (f"No family in the {t} area.", _words(t)),
        lambda r, t, s: (f"Followed by a {t}-based cardiologist.", _words(t)),
    ],
}


def _both(text: str) -> tuple[str, str]:
    from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text

    col = scrub_column(pa.array([text]), None, Counter())
    return str(col[0].as_py()), scrub_text(text, None, Counter())


def _gone(out: str, secrets: list[str]) -> bool:
    return not any(re.search(r"(?<![A-Za-z0-9])" + re.escape(s) + r"(?![A-Za-z0-9])", out)
                   for s in secrets)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per", type=int, default=40, help="sentences per kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=0, help="misses printed per kind")
    a = ap.parse_args()
    from faker import Faker

    fk = Faker("en_US")
    fk.seed_instance(a.seed)
    r = random.Random(a.seed)
    total = Counter[str]()
    for kind, probes in PROBES.items():
        caught, misses = 0, []
        for i in range(a.per):
            town = fk.city() if i % 2 else _invented(r)
            street = fk.last_name() if i % 3 else _invented(r)
            text, secrets = probes[i % len(probes)](r, town, street)
            outs = _both(text)
            if all(_gone(o, secrets) for o in outs):
                caught += 1
            else:
                misses.append(f"    {text!r} -> {outs[1]!r}")
        total["caught"] += caught
        total["all"] += a.per
        print(f"{kind:40s} {100 * caught / a.per:6.1f} %  ({caught}/{a.per})")
        print("\n".join(misses[:a.show]), end="\n" if a.show and misses else "")
    print(f"{'all kinds':40s} {100 * total['caught'] / total['all']:6.1f} %")


if __name__ == "__main__":
    main()
