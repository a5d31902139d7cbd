"""A place after a verb of motion: ``came in from Belpinkil``, ``en route to Vokil``.

A capital after a bare ``in``/``from``/``to`` is as often a language, a holiday, a
department or a drug (``translated to Spanish``, ``home for Christmas``, ``switched to
Eliquis``) as a town, so the place rules wait for a verb cue (``lives in``, ``moved to``)
or a town's look (``townshapes``). A verb of motion before ``from``/``to`` says the word
after it is where someone went or came from: an EMS run sheet or a triage note writes
``came in from``, ``brought in from``, ``en route to``, ``diverted to``, ``flew in from``,
``driving back to``. Probed in recall11 (``bench/deid_places_probe.py``): a made-up town
after ``from`` alone was never found. General form found by ``fresh-11`` (45 CFR
164.514(b)(2)(i)(B)):

* a **town after a verb of motion** (``come``, ``bring``, ``drive``, ``fly``, ``travel``,
  ``transport``, ``transfer``, ``arrive``, ``return``, ``head``, ``walk``, ``divert``,
  ``route``, ``en route``, ``on the way``, in their forms, with ``in``/``up``/``down``/
  ``over``/``back``/``home``/``here`` between) and ``from``/``to``/``toward``: one to
  three capitalized words, or one word in lower case, each no English, note, safe or chat
  word (``words.other_word``) and no eponym, the run no state or country (``en route to
  New Mexico``, ``moved from Canada`` stay).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import geo
from medpipe.activities.deid.safelist import EPONYMS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_VERB = (r"(?:c[ao]me?s?|coming|br(?:ing|ings|ought|inging)|dr(?:ive|ives|ove|iven|iving)"
         r"|fl(?:y|ies|ew|own|ying)|travell?(?:s|ed|ing)?|transport(?:s|ed|ing)?"
         r"|transferr?(?:s|ed|ing)?|arriv(?:e|es|ed|ing)|return(?:s|ed|ing)?|head(?:s|ed|ing)?"
         r"|walk(?:s|ed|ing)?|divert(?:s|ed|ing)?|rout(?:e|es|ed|ing)|en[ \t]route"
         r"|on[ \t](?:the|her|his|their)[ \t]way)")
_PARTICLE = r"(?:[ \t]{1,2}(?:in|up|down|over|back|home|here|out|straight))?"
_CAP = r"(?-i:[A-Z][a-z][A-Za-z'-]*)"
MOTION = re.compile(r"\b(?i:" + _VERB + _PARTICLE + r")[ \t]{1,2}(?i:from|to|towards?)[ \t]{1,2}"
                    r"(" + _CAP + r"(?:[ \t]" + _CAP + r"){0,2}|(?-i:[a-z][a-z'-]+))"
                    r"(?![A-Za-z0-9'-])")


def _place(run: str) -> bool:
    """Every word no English, note, safe or chat word nor an eponym, the run no state or
    country."""
    regions = geo.gazetteer().regions
    return run.lower() not in regions and all(
        other_word(w) and w.lower() not in EPONYMS and w.lower() not in regions
        for w in run.split())


def find(folded: str) -> list[Span]:
    """Spans of places after a verb of motion and ``from``/``to``."""
    return [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in MOTION.finditer(folded)
            if _place(m.group(1))]


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = (r"\b(?:c[ao]m|br[io]|dr[io]v|fl[eioy]|trav|transp|transf|arriv|return|head|walk"
           r"|divert|rout|way)[a-z]*(?:[ \t]+[a-z]+)?[ \t]+(?:from|to|toward)[ \t]+[a-z]")
#: The rule, for the rule table.
RULE = FunctionRule("motion-forms", TRIGGER, find)
