"""Grammars of dates, telephone numbers and street addresses, as regular expressions.

Written once from how these identifiers are built, not from examples:

* a **date** is a day, a month and maybe a year in any order the English
  world writes them: numeric (``3/14/2023``, ``14.03.23``, ``2023-03-14``,
  ``20230314``), or with the month spelled out, abbreviated, with or
  without a dot (``Sept.``), the day with or without an ordinal (``14th``,
  ``the 14th of``), separated by ``-``, ``/``, ``.``, spaces or commas, an
  optional weekday in front (``Tues 3/14``) and 2- or 4-digit years
  (``Mar '98``); month and year alone (``March of 2023``);
* a **telephone number** is a NANP number (``(555) 123-4567``,
  ``555.123.4567``, ``555/123-4567``, ``1-555-123-4567``, ``+1 555 …``) or an
  international one (``+33 1 42 68 53 00``, ``0044 20 7946 0958``), each with
  an optional extension (``x23``, ``ext. 4``, ``extension 12``, ``#5188``);
* a **street address** is a house number, an optional direction, one to
  three capitalized words and a street suffix from the USPS list (full or
  abbreviated, with or without a dot), then an optional unit (``Apt 4B``,
  ``Suite 200``, ``Unit 12``, ``# 3``, ``Fl 2``); a PO box. A unit alone
  (``Apt 4B``) is a context rule: the record's own street (``3915 Andrew Run
  Apt. 636``, a suffix no list holds) must still be whole when the known
  values are looked up, after this pass.

Every piece is RE2-compatible (Arrow runs the patterns vectorised): no
look-around, no back-references, bounded repetitions, scoped flags only.
The patterns are matched case-insensitively; parts that must be capitalized
say so with ``(?-i:…)``. A bare ``3/4`` is *not* here: without a year it is
as often a dose or a score as a date, so it is a context rule
(``activities.deid.context``).
"""

from __future__ import annotations

#: A month: full, abbreviated (``Sept`` too) with an optional dot.
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
#: A month next to a day number, without a year: ``May`` only capitalized ("may 2 tabs").
MONTH_CAP_MAY = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|(?-i:May|MAY)|june?"
                 r"|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?"
                 r"|dec(?:ember)?)\b\.?")
#: An optional weekday before a date (``Tues``, ``Thursday,``).
WEEKDAY = (r"(?:(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?\b\.?,?"
           r"\s{1,3})?")
#: A day of the month, with an optional ordinal suffix.
DAY = r"(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?"
#: A year: four digits, or two after an apostrophe.
YEAR = r"(?:[12][0-9]{3}|'[0-9]{2})"
#: A month in Roman numerals (I-XII), as European clerks write it between a day and a year.
ROMAN_MONTH = r"(?:xii|xi|x|ix|viii|vii|vi|v|iv|iii|ii|i)"
#: A day of the month spelled as an ordinal word (``seventh``, ``twenty-first``, ``thirtieth``).
_ORD_UNITS = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
DAY_WORD = (r"(?:twenty[\s-]{0,2}" + _ORD_UNITS + r"|thirty[\s-]{0,2}first|" + _ORD_UNITS
            + r"|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth"
            r"|eighteenth|nineteenth|twentieth|thirtieth)")
#: Between the parts of a spelled-out date: ``-``, ``/``, ``.``, ``,``, spaces, ``of``.
SEP = r"(?:\s{0,2}[-/.,]\s{0,2}|\s{1,3})(?:of\s{1,3})?"

#: A season or a quarter, finer than a year (HHS: "any other information that is more
#: specific than the year of an event" is a date element).
SEASON = r"(?:spring|summer|fall|autumn|winter)"
_DAY_NUM = r"(?:0?[1-9]|[12][0-9]|3[01])"
#: Holidays that fall on one day or one weekend of the year (fixed or movable).
HOLIDAY = (r"(?:christmas(?:\s{1,3}(?:eve|day))?|xmas|thanksgiving|easter(?:\s{1,3}sunday)?"
           r"|new\s{1,3}year'?s(?:\s{1,3}(?:eve|day))?|halloween|memorial\s{1,3}day"
           r"|labou?r\s{1,3}day|independence\s{1,3}day|(?:fourth|4th)\s{1,3}of\s{1,3}july"
           r"|mother'?s\s{1,3}day|father'?s\s{1,3}day|valentine'?s(?:\s{1,3}day)?"
           r"|veterans'?\s{1,3}day|mlk\s{1,3}day|presidents'?\s{1,3}day|boxing\s{1,3}day"
           r"|good\s{1,3}friday|super\s{1,3}bowl\s{1,3}sunday)")
_WEEKDAY_FULL = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_WEEKDAY_SHORT = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"

DATE = "|".join((
    # a range of two month/day pairs in one month ("3/3-3/7", "10/27 - 10/30"): before the
    # numeric forms, which would read "10/27-10" as a date with a two-digit year and leave
    # "/30". The month is written twice (RE2 has no back-references): "4/5-5/5" is a
    # strength score, not a range; a range across months is the context rules' (two m/d)
    r"\b(?:" + "|".join(rf"{m}/{_DAY_NUM}\s{{0,2}}-\s{{0,2}}{m}/{_DAY_NUM}"
                        for m in (*(f"0?{n}" for n in range(1, 10)), "10", "11", "12"))
    + r")(?:/(?:[0-9]{4}|[0-9]{2}))?\b",
    # numeric, year first or last; dd.mm.yy; compact yyyymmdd
    # (an ISO date's time of day is the same event's timestamp: "2024-03-04 14:22", "...T14:22")
    r"\b" + WEEKDAY + r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}(?:(?:T|\s)[0-9]{2}:[0-9]{2}"
    r"(?::[0-9]{2})?\b|\b|T[0-9]{2}:[0-9]{2})",
    # (not a dash then a slash before two digits: ``context._dash_slash_dates`` reads
    # that shape with the words around it, a date unless a score, quantity or UK count
    # explains it: "DOB 03-04/85" a date, "Pain 8-10/10", "Sx 13-18/12" kept; deid12g)
    r"\b" + WEEKDAY + r"[0-9]{1,2}(?:[-/.][0-9]{1,2}[-/.][0-9]{4}|(?:[/.][0-9]{1,2}[-/.]"
    r"|-[0-9]{1,2}[-.])[0-9]{2})\b",
    r"\b" + WEEKDAY + r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])\b",
    # 2-digit years between dashes or slashes: 21-APR-23, Apr/21/23
    r"\b" + DAY + r"[-/]" + MONTH + r"[-/][0-9]{2}\b",
    r"\b" + MONTH + r"[-/]" + DAY + r"[-/][0-9]{2}\b",
    # month spelled: month day [year]; day month [year]; year month day; month year
    r"\b" + WEEKDAY + r"(?:" + MONTH + SEP + DAY + SEP + YEAR + r"\b|" + MONTH_CAP_MAY + SEP
    + DAY + r"\b)",
    r"\b" + WEEKDAY + r"(?:the\s{1,3})?" + DAY + r"(?:[-/.]|\s{1,3})(?:of\s{1,3})?"
    r"(?:" + MONTH + SEP + YEAR + r"\b|" + MONTH_CAP_MAY + r")",
    r"\b[0-9]{4}[-/. ]" + MONTH + r"[-/. ][0-9]{1,2}\b",
    # day, month and year run together: 5Mar2020, 05MAR20, 03MAR (pharmacy and lab stamps);
    # September as notes abbreviate it too ("due 22sept", deid12e)
    r"\b(?:0?[1-9]|[12][0-9]|3[01])(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)"
    r"(?:[12][0-9]{3}|[0-9]{2})?\b",
    r"\b" + MONTH + SEP + YEAR + r"\b",
    # the month, then "the" and an ordinal day: "March the 3rd"
    r"\b" + WEEKDAY + MONTH_CAP_MAY + r"\s{1,3}the\s{1,3}(?:0?[1-9]|[12][0-9]|3[01])"
    r"(?:st|nd|rd|th)\b",
    # month and year in digits: 01/2008, 3-2019, 11.2020 (a month of 1-12, a 19xx/20xx year)
    r"\b(?:0?[1-9]|1[0-2])[-/.](?:19|20)[0-9]{2}\b",
    # "may" in lower case is a month before an ordinal day ("may 12th", not "may 2 tabs"), or
    # before a day that ends its clause ("last dose was may 17, ran out"; the mark takes the
    # comma: RE2 has no look-ahead, and "may 2 tabs" must stay)
    r"\bmay\s{1,3}(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)\b",
    r"\bmay\s{1,3}(?:0?[1-9]|[12][0-9]|3[01])(?:\s{0,2}[,;]|\.(?:\s|$)|$)",
    # the month in Roman numerals between a day and a year: 7.III.24, 25-XII-2023, 3/iv/98
    r"\b(?:0?[1-9]|[12][0-9]|3[01])\s{0,2}[-/.]\s{0,2}" + ROMAN_MONTH + r"\s{0,2}[-/.]\s{0,2}"
    r"(?:[0-9]{4}|[0-9]{2})\b",
    # the day spelled as an ordinal word: "the seventh of March", "twenty-first of May",
    # "March the seventh" (a full stop after the month ends the sentence: it stays)
    r"\b(?:the\s{1,3}" + DAY_WORD + r"\s{1,3}(?:of\s{1,3})?|" + DAY_WORD + r"\s{1,3}of\s{1,3})"
    + MONTH_CAP_MAY.removesuffix(r"\.?") + r"(?:" + SEP + YEAR + r"\b)?",
    r"\b" + MONTH_CAP_MAY + r"\s{1,3}(?:the\s{1,3})?" + DAY_WORD + r"\b",
    # a season or a quarter with its year ("summer of 2019", "Q3 2022", "2022-Q3"), and a
    # part of a month ("mid-March", "early Feb."); the year alone is not a date element
    r"\b" + SEASON + r"(?:\s{1,3}of)?\s{1,3}(?:(?:19|20)[0-9]{2}\b|'[0-9]{2}\b)",
    r"\bq[1-4]\s{0,2}(?:[-/,]|of)?\s{0,2}(?:19|20)[0-9]{2}\b|\b(?:19|20)[0-9]{2}\s{0,2}[-/]?"
    r"\s{0,2}q[1-4]\b",
    r"\b(?:mid|early|late)(?:-|\s{1,2})" + MONTH_CAP_MAY.removesuffix(r"\.?"),
    # a year and a month in digits, ISO style ("2017-03", "2017/03")
    r"\b(?:19|20)[0-9]{2}[-/](?:0[1-9]|1[0-2])\b",
    # a holiday with its year ("Christmas 2023", "over Thanksgiving of '19"): a day of the
    # year, finer than the year (the holiday alone, "over Christmas", stays)
    r"\b" + HOLIDAY + r"(?:\s{1,3}of)?,?\s{1,3}(?:(?:19|20)[0-9]{2}|'[0-9]{2})\b",
    # a weekday and an ordinal day ("this friday the 5th", "Wednesday 6th"; an abbreviated
    # weekday only with "the": "sat 2nd row" stays)
    r"\b(?:" + _WEEKDAY_FULL + r",?\s{1,3}(?:the\s{1,3})?|" + _WEEKDAY_SHORT + r"\.?,?\s{1,3}the"
    r"\s{1,3})" + _DAY_NUM + r"(?:st|nd|rd|th)\b",
    # an ordinal day of lower-case "may" ("the 19th of may": the ordinal and "of" say date)
    r"\b" + _DAY_NUM + r"(?:st|nd|rd|th)\s{1,3}of\s{1,3}may\b",
    # and spelled ("the twelfth of may"; "the twelfth of May" is the spelled form above)
    r"\b" + DAY_WORD + r"\s{1,3}of\s{1,3}may\b",
))

#: An extension after a telephone number ("x23" attached too), or the end of the number.
EXTENSION = r"(?:\s{0,2},?\s{0,2}(?:ext\.?|extension|x|#)\s{0,2}[0-9]{1,6}\b|\b)"
PHONE = "|".join((
    # international: + or 00, country code, 2-6 groups of 1-4 digits
    r"\+[1-9][0-9]{0,2}(?:[-. ]?\(?[0-9]{1,4}\)?){2,6}" + EXTENSION,
    # (spaces or dots only: "0093-7146-56" is a drug code, NDC 4-4-2)
    r"\b00[1-9][0-9]{0,2}(?:[. ]\(?[0-9]{1,4}\)?){2,6}" + EXTENSION,
    r"\+[0-9]{8,15}" + EXTENSION,
    # NANP: optional 1, area code in parentheses or followed by a separator, 7 digits
    r"(?:\+?1[-. ]?)?(?:\([0-9]{3}\)[-. ]?|\b[0-9]{3}[-. /])[0-9]{3}[-. ][0-9]{4}" + EXTENSION,
    # 7-digit local numbers; digit groups before one with the same separator are taken
    # with it ("Member ID 12 345 6789" is one run: a 7-digit tail alone would leave "12")
    *(rf"\b(?:[0-9]{{1,5}}{sep})*[0-9]{{3}}{sep}[0-9]{{4}}" + EXTENSION
      for sep in ("-", r"\.", " ")),
))

#: USPS street suffixes (Publication 28) people write, full and abbreviated;
#: words that are mostly something else in notes (Center as in "Level 1 Trauma
#: Center", View as in "2 View Chest", Walk as in "6 Minute Walk", Pt, Close,
#: Run, Row, Fall, Rest, Well, Key, Pass, Union, Light, Spring, Station) left out.
STREET_SUFFIX = (
    r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl"
    r"|terrace|terr|ter|circle|cir|parkway|pkwy|highway|hwy|way|square|sq|trail|trl|plaza|plz"
    r"|alley|aly|crescent|cres|loop|pike|turnpike|tpke|expressway|expy|freeway|fwy|point"
    r"|path|crossing|xing|cove|cv|creek|ridge|rdg|heights|hts|hills?|vista|glen"
    r"|grove|park|landing|manor|mews|gardens?|green|route|rte|bypass|byp"
    r"|causeway|cswy|estates?|harbor|hbr|hollow|junction|jct|knolls?|lakes?"
    r"|meadows?|mill|orchard|oval|pines?|plains?|shores?|summit|smt|trace|valley"
    r"|vly|village|vlg|ville|bluff|branch"
    # the rest of USPS Publication 28, appendix C1 (primary names and standard
    # abbreviations), less words that are mostly something else after a number in notes
    # (Bridge, Field, Course, Track, Club, Neck, Camp, Lock, Radial, Tunnel as in "Carpal
    # Tunnel", Bend, Falls as in "3 Recent Falls", Ctr, Mt, Ft, Pt, Pr, Is, Via, Vis, Dl, Ml,
    # Dm, Ext, Sta, Br, Un, Fall, Land, Mall, Ramp, Rest, Run, Row, Walk, Wall, Well, Key,
    # Pass, Views as in "2 Lateral Views")
    r"|anx|anex|arcade|byu|bayou|bch|beach|bnd|blf|blfs|bluffs|btm|brg|brk|brook|brks"
    r"|brooks|bg|bgs|burgs?|cyn|canyon|cpe|cirs|circles|clf|cliff|clfs|cliffs|cmns?|commons?"
    r"|cors?|corners?|crse|cts|courts|cvs|coves|crk|crst|crest|xrds?|crossroads?|curv"
    r"|dale|drs|drives|ests|fls|fry|ferry|flts?|flats?|frds?|fords?|frst|forest|frgs?"
    r"|frks?|forks?|gdns?|gtwy|gateway|gln|glns|glens|grns?|greens|grv|grvs|groves|hbrs"
    r"|harbors|hvn|hl|hls|holw|inlt|iss|islands?|isle|jcts|knl|knls|lk|lks|lndg|ldg|lodge"
    r"|mnrs?|manors|mdws?|msn|mtwy|motorway|mtns?|mountains?|orch|opas|overpass|psge"
    r"|passage|pnes?|plns?|prt|prts|prairie|radl|rnch|ranch|rpds?|rapids|rdgs|ridges|riv"
    r"|river|rds|roads|shls?|shoals?|shr|shrs|skwy|skyway|spgs?|springs|sqs|squares|stra"
    r"|stravenue|strm|sts|streets|trwy|throughway|trce|trak|trfy|trafficway|trlr"
    r"|upas|underpass|vlys|valleys|viaduct|vw|vws|vlgs|villages|vl|ways)")
#: The street kinds people write most, each written out and with the USPS abbreviation
#: people use for it (Publication 28, appendix C1), if any. The rules that read a street
#: the grammar above does not take (no house number before it: ``streetforms``; its kind
#: in full and in lower case: ``homestreets``, ``forms.LOWER_ADDRESS``) build their kinds
#: from it, each adding the few its form allows: ``STREET_SUFFIX`` is too wide for them,
#: since there the house number is what says "a street" (``on Memorial Park``, ``2 court
#: dates``, ``10 way valve``).
STREET_KINDS: tuple[tuple[str, ...], ...] = (
    ("street", "st"), ("avenue", "ave"), ("road", "rd"), ("drive", "dr"), ("lane", "ln"),
    ("court", "ct"), ("terrace", "ter"), ("place", "pl"), ("boulevard", "blvd"),
    ("parkway", "pkwy"), ("circle", "cir"), ("trail", "trl"), ("highway", "hwy"), ("pike",),
    ("way",), ("loop",))
#: The USPS codes of the fifty states and the District of Columbia (Publication 28,
#: appendix B): the one list every rule that reads a state's code builds its pattern from.
STATE_CODES = ("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID",
               "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO",
               "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
               "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY")
#: The USPS codes of the territories and freely associated states, Puerto Rico, Guam and
#: the Virgin Islands first: ``townforms`` reads those three only, as it always has.
TERRITORY_CODES = ("PR", "GU", "VI", "AS", "MP", "FM", "MH", "PW")
#: The USPS codes of the armed forces' post offices (Americas, Europe, Pacific).
MILITARY_CODES = ("AA", "AE", "AP")


def codes(*groups: tuple[str, ...]) -> str:
    """The alternation of the codes of ``groups`` (``AL|AK|…``), for a pattern to wrap.

    Every code has two letters, so the order of the alternatives never changes a match.
    """
    return "|".join(c for group in groups for c in group)


#: A unit designator and its number (``Apt 4B``, ``Suite #200``, ``Fl. 2``).
UNIT = (r"(?:apt|apartment|unit|suite|ste|room|rm|floor|fl|bldg|building|lot|space|#)\.?"
        r"\s{0,2}#?\s{0,2}[0-9]{1,5}[a-z]?\b|(?:apt|apartment|unit|suite|ste)\.?\s{0,2}"
        r"#?\s{0,2}[a-z]\b")
#: A post-office box's words, in every spelling people write (``P.O. Box``, ``PO BX``,
#: ``POB``, ``Post Office Drawer``), before its number: the address grammar's, and
#: ``mailforms``' (on one line there: ``\s`` read as ``[ \t]``).
PO_BOX = r"(?:p\.?\s?o\.?\s{0,3}(?:box|bx|drawer)|pob|post\s{1,3}office\s{1,3}(?:box|drawer))"
#: One capitalized word of a street name (``Oak``, ``5th``, ``MLK``, ``O'Neil``).
#: A single letter takes no dot: "on 2 L. Dr Anderson" is a dose and a title, not a street.
_STREET_WORD = r"(?-i:[A-Z0-9](?:[A-Za-z0-9'-]{1,24}\.?)?)"
ADDRESS = "|".join((
    r"\b[0-9]{1,6}[a-z]?(?:-[0-9]{1,4})?\s{1,3}(?:(?-i:[NSEW]|NE|NW|SE|SW)\.?\s{1,3}"
    r"|(?:north|south|east|west)\s{1,3})?(?:" + _STREET_WORD + r"\s{1,3}){1,3}"
    + STREET_SUFFIX + r"\b\.?(?:\s{0,2},?\s{0,2}(?:" + UNIT + r"))?",
    r"\b" + PO_BOX + r"\s{0,3}#?\s{0,2}[0-9]{1,7}\b",
    # rural route / highway contract box: "RR 3 Box 120", "HC 62 Box 14", "Rural Route 2, Box 9"
    r"\b(?:rr|r\.r\.|rural\s{1,3}route|hc|hcr)\s{0,2}#?\s{0,2}[0-9]{1,4}\s{0,2},?\s{0,2}box"
    r"\s{0,3}#?\s{0,2}[0-9]{1,6}\b",
))
