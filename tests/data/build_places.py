"""Regenerate ``activities/deid/places.txt``, the gazetteer the free-text matcher ships.

Development only: reads GeoNames' ``cities15000.txt`` dump (CC BY 4.0,
https://download.geonames.org/export/dump/cities15000.zip, tab-separated: name,
ASCII name, ..., country code in column 9, population in column 15), which a
developer fetches once; medpipe ships the resulting list as text and downloads
nothing at run time. ``python tests/data/build_places.py cities15000.txt``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from medpipe.activities.deid.normalize import fold  # noqa: E402

#: Gazetteer names that are mostly ordinary words after "in"/"to"/"from" in notes.
_NOT_PLACES = frozenset({
    "airport", "mobile", "orange", "normal", "independence", "commerce", "enterprise", "temple",
    "plantation", "paradise", "spring", "springs", "university", "college", "hospital", "center",
    "downtown", "midtown", "uptown", "village", "union", "liberty", "marion", "summit", "franklin",
    "hope", "victoria", "florence", "jackson", "madison", "lincoln", "washington", "clinton",
    "eagle", "mission", "opportunity", "prairie", "valley", "beach", "bay", "lake", "park",
    "highland", "highlands", "riverside", "fairview", "greenville", "lakewood", "newport",
    "hospice", "home", "rehab", "surgery", "medicine", "pharmacy", "emergency", "general",
    "memorial", "mercy", "charity", "trinity", "grace", "aurora", "gary",
    "warren", "troy", "chester", "lawrence", "taylor", "wilson", "davis", "carson", "pearl",
    "florida", "georgia", "nevada", "virginia", "indiana", "kent", "york",
    "essex", "bristol", "cambridge", "oxford", "ontario", "alberta", "manchester",
})


def build_places(dump: Path, min_world_population: int = 1_000_000) -> list[str]:
    """US cities (population >= 15,000) and large world cities, folded and lower-case."""
    out: set[str] = set()
    for line in dump.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) < 15:
            continue
        name, country, population = cols[1], cols[8], int(cols[14] or 0)
        if country == "US" or population >= min_world_population:
            name = fold(name)[0].lower().strip()
            if name.isascii() and len(name) >= 3 and name not in _NOT_PLACES \
                    and re.fullmatch(r"[a-z][a-z' .-]*", name):
                out.add(name)
    return sorted(out)


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped gazetteer
    names = build_places(Path(sys.argv[1]))
    (Path(__file__).resolve().parents[2] / "activities" / "deid" / "places.txt").write_text(
        "# US cities (population >= 15,000) and world cities (>= 1,000,000) from GeoNames\n"
        "# (https://www.geonames.org, CC BY 4.0), dump cities15000.txt;\n"
        "# regenerate with python tests/data/build_places.py cities15000.txt\n"
        + "\n".join(names) + "\n")
    print(f"{len(names)} places")
