"""Names as writers from China, the Philippines, India, Mexico and southern Africa place them
(deid12h).

The name cues read English: ``Dr``, ``daughter``, ``spoke with``, a name before ``(son)`` or
``, RN``. Other writers cue a person in their own ways, and their names are often on no
list (``Rodel``, ``Thandeka``, ``Xiulan``) or are English words too (``Ming``, ``Bing``):

* **a family name in capitals, then the given name**, as Chinese names are written (``reg
  FENG Jie attended``, ``seen by ZOU Xiulan (med reg)``), after a clinician's cue (``reg``,
  ``registrar``, ``by``, ``consultant``, ``SHO``, ``fellow``...). The capitals are a family
  name of the dictionary or a word on no list and the given name one of the dictionary or
  on no list too, or the two are a name in Pinyin (``PINYIN_NAME``: a syllable, then one or
  two: ``TANG Gang``, ``HAN Ming`` though ``gang``, ``ming`` are English words), so ``by GP
  Surgery``, ``reg ICU Outreach`` stay;
* **a family name in capitals after a log's act** (``witnessed DLAMINI / security``,
  ``countersigned RAO``): a family name of the dictionary, or a word of four letters or
  more on no list (``CPR`` is on none);
* **a kin title and a nickname** (Filipino: ``Tita Bing``, ``Kuya Jun-Jun``, ``Lola
  Dodong``): after ``Tita``, ``Tito``, ``Lola``, ``Lolo``, ``Kuya``, ``Manang``, ``Manong``,
  ``Ninang``, ``Ninong``, any capitalised word that is no note word; after ``Ate`` (also
  English: ``Ate Lunch``) only a word on no list. The title stays;
* **a Spanish relation** (``su familiar, Héctor,``, ``la hija Rosa``, ``Refugio
  (familiar)``): a relation word of Spanish before a capitalised name, or in brackets after
  it;
* **an attender or a bystander** (Indian English: ``Attender Venkata Lakshmi signed``): one
  or two capitalised words after it;
* **a credential before a name** after a clinician's act (``Reviewed by IBCLC Siobhan``,
  ``seen by RN Thandeka``);
* **a name before a bracketed relation** the English cues do not hold (``Rodel (NOK)``,
  ``Aroha (carer)``, ``Wiremu (grandchild)``, ``Rosa (familiar)``).

In the last four a name's word is a dictionary name or a word on no list
(``words.other_word``), so ``Partner (NOK)``, ``by RN Team`` stay. Python ``re`` on the
folded text, through the rule table (``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.activities.deid.words import NOT_NAMES, other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAPWORD = r"[A-Z][a-z'-]+(?:-[A-Z]?[a-z]+)?"
_CLINICIAN = (r"reg|registrar|by|consultant|sho|fy1|fy2|fellow|resident|intern|attending"
              r"|surgeon|anaesthetist|anesthetist")
SURNAME_FIRST = re.compile(r"(?<![A-Za-z])(?i:" + _CLINICIAN + r")\.?[ \t]{1,2}"
                           r"([A-Z]{2,10}[ \t]" + _CAPWORD + r")(?![A-Za-z])")
_ACTS = r"witnessed|countersigned|co-signed|cosigned|signed off by|checked with"
ACT_CAPITALS = re.compile(r"(?<![A-Za-z])(?i:" + _ACTS + r")[ \t]{1,2}([A-Z]{3,}(?:-[A-Z]{2,})?)"
                          r"(?![A-Za-z])")
_KIN_TITLES = r"Tita|Tito|Lola|Lolo|Kuya|Manang|Manong|Ninang|Ninong|Ate"
KIN_TITLE = re.compile(r"(?<![A-Za-z])(" + _KIN_TITLES + r")[ \t]{1,2}(" + _CAPWORD
                       + r")(?![A-Za-z])")
_SPANISH_REL = (r"familiar|hija|hijo|esposa|esposo|hermana|hermano|madre|padre|nieta|nieto"
                r"|sobrina|sobrino|vecina|vecino|tia|tio|prima|primo|cunada|cunado|nuera"
                r"|yerno|suegra|suegro|comadre|compadre|novia|novio")
_NAME2 = r"(" + _CAPWORD + r"(?:[ \t]" + _CAPWORD + r")?)"
SPANISH_BEFORE = re.compile(r"(?<![A-Za-z])(?i:" + _SPANISH_REL + r")(?:,|:)?[ \t]{1,2}"
                            + _NAME2 + r"(?![A-Za-z])")
_ROLES = r"attender|attendant|bystander"
ATTENDER = re.compile(r"(?<![A-Za-z])(?i:" + _ROLES + r")[:,]?[ \t]{1,2}" + _NAME2
                      + r"(?![A-Za-z])")
_CREDENTIAL = r"IBCLC|RN|RM|RD|NP|CNM|LPN|LVN|MSW|SLP|HCA|CNA|EN|MW|SW"
CREDENTIAL_FIRST = re.compile(r"(?<![A-Za-z])(?i:by|per|with|from)[ \t]{1,2}(?:" + _CREDENTIAL
                              + r")[ \t]{1,2}" + _NAME2 + r"(?![A-Za-z])")
_CREDENTIAL_WORD = re.compile(r"(?:" + _CREDENTIAL + r"|MD|DO|PA|PT|OT|SHO|FY[12])")
_BRACKET_REL = (r"nok|next of kin|carer|carers|grandchild|grandkid|relative|whanau|kin|attender"
                r"|" + _SPANISH_REL)
BEFORE_BRACKET = re.compile(_NAME2 + r"[ \t]{0,2}\((?:su[ \t]|her[ \t]|his[ \t])?(?i:"
                            + _BRACKET_REL + r")\)")
#: Words that end a name's run of two (``Rosa Por``: a Spanish word in capitals opening a
#: clause is no name's).
_NOT_SECOND = frozenset(("por", "en", "de", "la", "el", "con", "y", "que", "para"))


#: A syllable of Hanyu Pinyin without tones: an initial and a final, or a final that stands
#: alone (``an``, ``er``; ``i``, ``u`` never do: ``yi``, ``wu``).
_FINAL = (r"(?:iang|iong|uang|ueng|iao|ian|ing|uai|uan|ang|eng|ong|ai|ei|ao|ou|an|en|er|ia|ie"
          r"|iu|in|ua|uo|ui|un|ve|a|o|e|i|u|v)")
_SYLLABLE = (r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])" + _FINAL
             + r"|(?:ang|eng|ai|ei|ao|ou|an|en|er|a|o|e))")
#: A Chinese family name of one syllable and a given name of one or two, as romanised.
PINYIN_NAME = re.compile(_SYLLABLE + r"[ \t]" + _SYLLABLE + r"{1,2}")


def _key(word: str) -> str:
    return word.lower().replace("'", "").replace("-", "")


def _namelike(word: str) -> bool:
    """A dictionary name, or a word on no list (no English, note, safe or chat word)."""
    given, family = dictionary()
    k = _key(word)
    return k not in NOT_NAMES and (k in given or k in family or other_word(word))


def _names(folded: str, m: re.Match[str], group: int = 1) -> Span | None:
    """The span of the name's words of ``group`` that are ``_namelike``: the first alone,
    or both (None: the first is not)."""
    words = m.group(group).split()
    if not _namelike(words[0]):
        return None
    end = m.start(group) + len(words[0])
    if len(words) > 1 and words[1].lower() not in _NOT_SECOND and _namelike(words[1]):
        end = m.end(group)
    return (m.start(group), end, Placeholder.NAME)


def find(folded: str) -> list[Span]:
    """Spans of names after the cues of other writers (see the module's doc)."""
    given, family = dictionary()
    out: list[Span] = []
    for m in SURNAME_FIRST.finditer(folded):
        surname, first = m.group(1).split()
        s, f = _key(surname), _key(first)
        if s in NOT_NAMES or f in NOT_NAMES or _CREDENTIAL_WORD.fullmatch(surname):
            continue
        if (s in family or other_word(surname)) and (f in given or other_word(first)) \
                or PINYIN_NAME.fullmatch(m.group(1).lower()):
            out.append((m.start(1), m.end(1), Placeholder.NAME))
    for m in ACT_CAPITALS.finditer(folded):
        k = _key(m.group(1))
        if k not in NOT_NAMES and (k in family or (len(k) >= 4 and other_word(m.group(1)))):
            out.append((m.start(1), m.end(1), Placeholder.NAME))
    for m in KIN_TITLE.finditer(folded):
        k = _key(m.group(2))
        if k in NOT_NAMES or (m.group(1) == "Ate" and not other_word(m.group(2))):
            continue
        out.append((m.start(2), m.end(2), Placeholder.NAME))
    for pattern in (SPANISH_BEFORE, ATTENDER, CREDENTIAL_FIRST, BEFORE_BRACKET):
        for m in pattern.finditer(folded):
            span = _names(folded, m)
            if span is not None:
                out.append(span)
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive; the capitals
#: each form needs are read with ``(?-i:...)``, so "by the way" selects nothing).
_UP = r"(?-i:[A-Z])"
TRIGGER = (r"\b(?:" + _CLINICIAN + r")\.?" + WS + r"{1,2}(?-i:[A-Z]{2})[A-Za-z]{0,8}" + WS + _UP
           + r"|\b(?:" + _ACTS + r")" + WS + r"{1,2}(?-i:[A-Z]{3})"
           r"|\b(?-i:" + _KIN_TITLES + r")" + WS + r"{1,2}"
           + _UP + r"|\b(?:" + _SPANISH_REL + r"|" + _ROLES + r")[,:]?" + WS
           + r"{1,2}" + _UP + r"|\b(?:by|per|with|from)" + WS + r"{1,2}(?-i:" + _CREDENTIAL
           + r")" + WS + r"{1,2}" + _UP + r"|\((?:su" + WS + r"|her" + WS + r"|his" + WS
           + r")?(?:" + _BRACKET_REL + r")\)")
#: The rule, for the rule table.
RULE = FunctionRule("world-names", TRIGGER, find)
