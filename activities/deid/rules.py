"""The context rules as one table: each rule with the trigger that selects its texts.

A rule (``Rule``) is a name, a *trigger* and a ``find``. The trigger is an
RE2 pattern, matched case-insensitively (``(?-i:...)`` where case matters),
that every text the rule can find something in contains: a relaxation of
the rule's own regular expression without its look-around, or of the cue it
needs. The column path (``active``) evaluates every trigger over a whole
column of texts with Arrow (one vectorised pass each), and Python runs a
rule's ``re`` patterns only on the texts its trigger selects; a text no
trigger selects is not looked at at all. ``find`` (every rule, in table
order) is the per-text reference: the spans of a text are the same whichever
way it is reached, because a rule whose trigger a text lacks finds nothing
in it (``tests/activities/deid/test_rules.py`` checks each trigger against
its rule), and the rules keep their order (``detect.merge`` lets the first of
two equal spans name the placeholder).

Most forms are "cue, then capture" (``Form``: a pattern, the group replaced,
an optional cue that must end right before the match, a test of the match);
rules that read runs of capitalized words are functions of ``cues.Text``,
which computes the runs once, only for a text whose rules read them.

Rules added elsewhere (``activities.deid.registry``: objects
with ``name``, ``trigger`` and ``find(folded) -> list[Span]``) join the end of
the table (``table``) and go through the same trigger prefilter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import (
    abroadplaces,
    ageforms,
    cityforms,
    civicforms,
    compassplaces,
    context,
    cueddates,
    cues,
    dateparts,
    dateruns,
    dateshapes,
    dayforms,
    forms,
    headsample,
    homestreets,
    hoodforms,
    idruns,
    initialforms,
    kinforms,
    letterdays,
    letterforms,
    mailforms,
    marks,
    messageforms,
    monthtypos,
    motionforms,
    namecues,
    nameforms,
    names,
    nationalids,
    peopleforms,
    placeforms,
    placeshapes,
    postforms,
    proseplaces,
    refshapes,
    registry,
    relnames,
    reportforms,
    signforms,
    spanishforms,
    spokendates,
    ssnforms,
    stateforms,
    streetforms,
    titlenames,
    townforms,
    townshapes,
    unitstreets,
    worldforms,
    worldnames,
)
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Python ``\s`` on ASCII text (RE2's ``\s`` lacks ``\v`` and ``\x1c``-``\x1f``).
_WS = r"[\t-\r\x1c-\x1f ]"


class TextRule(Protocol):
    """What the engine needs of a rule (the shape of ``activities.deid.registry``'s)."""

    @property
    def name(self) -> str:
        """A short, unique name."""
        ...

    @property
    def trigger(self) -> str:
        """RE2, matched case-insensitively: every text ``find`` finds something in holds it."""
        ...


@dataclass(frozen=True)
class Rule:
    """A rule of the table: its trigger and its finder over a ``cues.Text``."""

    name: str
    trigger: str
    run: Callable[[cues.Text], list[Span]]

    def find(self, t: cues.Text) -> list[Span]:
        """The rule's spans in ``t``."""
        return self.run(t)


@dataclass(frozen=True)
class Form:
    """A "cue, then capture" rule: a pattern and the tests its matches pass.

    ``gate``: substring tests (in C) the text must pass first, as before the
    table; ``cue_before``: a pattern that must end right before the match,
    searched in the ``window`` characters before it; ``keep``: a last test of
    the match; ``group``: the group replaced (``-1``: the first that matched),
    up to the match's end when ``to_end``; ``lower``: matched on the
    lower-case text.
    """

    name: str
    trigger: str
    pattern: re.Pattern[str]
    placeholder: Placeholder
    group: int = 0
    gate: Callable[[cues.Text], bool] | None = None
    cue_before: re.Pattern[str] | None = None
    window: int = 0
    keep: Callable[[str, re.Match[str]], bool] | None = None
    lower: bool = False
    to_end: bool = False

    def find(self, t: cues.Text) -> list[Span]:
        """The rule's spans in ``t``."""
        if self.gate is not None and not self.gate(t):
            return []
        text = t.folded
        if self.lower:
            text = t.low
            if len(text) != len(t.folded):  # positions would move (rare scripts)
                return []
        out: list[Span] = []
        cue, keep, g = self.cue_before, self.keep, self.group
        for m in self.pattern.finditer(text):
            if cue is not None and not cue.search(text, max(0, m.start() - self.window),
                                                  m.start()):
                continue
            if keep is not None and not keep(text, m):
                continue
            gi = g if g >= 0 else next(i for i in range(1, m.re.groups + 1) if m.group(i))
            out.append((m.start(gi), m.end() if self.to_end else m.end(gi), self.placeholder))
        return out


@dataclass(frozen=True)
class External:
    """A rule registered elsewhere, whose ``find`` reads the folded text."""

    rule: TextRule
    name: str
    trigger: str
    #: Spans the rule's ``find`` passes over whole, left out of the trigger's view
    #: (``registry.hits``); empty: none.
    trigger_skip: str = ""

    @classmethod
    def of(cls, rule: TextRule) -> External:
        """``rule`` (a module's or the registry's) as a rule of the table."""
        return cls(rule, rule.name, rule.trigger, getattr(rule, "trigger_skip", ""))

    def find(self, t: cues.Text) -> list[Span]:
        """The rule's spans in ``t``."""
        return list(self.rule.find(t.folded))  # type: ignore[attr-defined]


AnyRule = Rule | Form | External

_CAP_LOW = r"(?-i:[A-Z])"
#: Where the word before a run starts (``cues.word_before``: after no ``[A-Za-z/'-]``).
_WORD_START = r"(?:^|[^a-z/'-])"
#: Particles may open a run's name after its cue ("Dr van Berg").
_PARTICLES = r"(?:(?:" + "|".join(sorted(cues.PARTICLES)) + r")[ \t]{1,2}){0,2}"
_LAST_WORDS = "|".join(sorted(names._LAST_WORDS, key=lambda w: (-len(w), w)))
_RELATIONS = names._RELATIONS
_ROLES = "|".join(sorted(forms.ROLES | {"patient", "pt"}, key=lambda w: (-len(w), w)))
_PLACE_WORDS = "|".join(sorted(context._PLACE_LAST_WORDS))
_AGE = r"(?:9[0-9]|1[01][0-9])"
_MD = (r"(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01])\b"
       r"|[0-9]-[0-9]{1,2}/[0-9]{2}\b")  # and context.DASH_SLASH's d-m/yy (deid12g)

#: The rules of ``names``: a cue word (the last word of a cue) before a capital, a capital
#: word before a relation or a credential, an initial before a capital.
NAMES: tuple[AnyRule, ...] = (
    Rule("cued", _WORD_START + r"(?:" + _LAST_WORDS + r")[\t\n .:,(]{1,6}" + _PARTICLES + _CAP_LOW
         + r"|[a-z]" + _WS + r"{0,2}(?:\(" + _WS + r"{0,2}|," + _WS + r"{0,2}(?:(?:her|his|their"
         r"|the|pt's|patient's|pt)" + _WS + r"{1,2})?)(?:" + _RELATIONS + r")\b"
         r"|[a-z],?" + _WS + r"{1,2}(?-i:" + names._CREDENTIALS + r")"
         r"|(?-i:[A-Z]\.[ \t]{0,2}[A-Z])", names.find_cued),
    Rule("beside", r"(?-i:\[NAME\][\t-\r\x1c-\x1f ,]+[A-Z][A-Za-z'-]|[A-Z][A-Za-z'-]+" + _WS
         + r"+\[NAME\])", names.find_beside),
    Rule("pair", r"(?-i:[A-Z][A-Za-z'-]+" + _WS + r"+(?:[A-Z]\." + _WS + r"+)?[A-Z][A-Za-z'-]+)",
         names.find_pair),
)

#: The rules of ``context``.
CONTEXT: tuple[AnyRule, ...] = (
    Rule("month-day", _MD, context.find_dates),
    Rule("age-sex", r"(?-i:" + _AGE + _WS + r"?(?:[MF]|yo[MF]|y/o[MF]))\b", context.find_ages),
    Rule("zip", r"zip|postal", context.find_zip),
    Rule("unit", r"\b(?:apt|apartment|suite|ste)\.?" + _WS + r"{0,2}#?" + _WS + r"{0,2}[0-9]",
         context.find_units),
    Rule("place", _WORD_START + r"(?:" + _PLACE_WORDS + r")" + _WS + r"{1,6}" + _CAP_LOW,
         context.find_places),
)

_LOW_ADDR = (r"(?-i:[0-9]{2,6}" + _WS + r"{1,2}(?:[nsew]\.?" + _WS + r"{1,2})?(?:[a-z][a-z'-]{1,20}"
             + _WS + r"{1,2}){1,3}(?:" + forms._ABBR_SUFFIX + "|" + forms._FULL_SUFFIX + "))")

#: The rules of ``forms``, in the order their spans were always listed.
FORMS: tuple[AnyRule, ...] = (
    Form("ssn-last4", r"last" + _WS + r"{1,2}(?:4|four)|(?:ending|ends)(?:" + _WS
         + r"{1,2}(?:in|with|of))?[\t-\r\x1c-\x1f :#-]{0,4}[0-9]{4}"
         r"|(?:x{3}|\*{3})[-. ]?(?:x{2}|\*{2})[-. ]?[0-9]{4}", forms.SSN_LAST4,
         Placeholder.SSN, group=-1,
         gate=lambda t: ("last" in t.low or "ending" in t.low or "xxx" in t.low
                         or "***" in t.low or "ends" in t.low)
         and ("ss" in t.low or "soc" in t.low or "xxx" in t.low or "***" in t.low)),
    Form("age-cued", r"(?:turned|turns|turning|be|is)" + _WS + r"{1,3}[19][0-9]",
         forms.AGE_CUED, Placeholder.AGE, cue_before=forms.AGE_CUE_BEFORE, window=20),
    Form("age-words", r"ninety|hundred", forms.AGE_WORDS, Placeholder.AGE, group=1,
         gate=lambda t: "ninety" in t.low or "hundred" in t.low),
    Form("month-misspelled", r"[jfmasond][a-z]{3,9}\.?" + _WS + r"{1,3}(?:0?[1-9]|[12][0-9]|3[01])"
         r"(?:st|nd|rd|th|,?" + _WS + r"{1,3}(?:19|20)[0-9]{2})", forms.MONTH_LIKE,
         Placeholder.DATE, gate=lambda t: forms._DAY_YEAR_GATE.search(t.folded) is not None,
         keep=forms.month_like),
    Form("id-after-noun", r"(?:^|[^a-z0-9])" + forms._ID_NOUNS + r"\b\.?(?:" + _WS
         + r"{0,2}" + forms.ID_QUALIFIERS + r"\b\.?)?[\t-\r\x1c-\x1f #:.-]{0,4}"
         r"[a-z0-9 -]*[0-9][a-z0-9 -]*[0-9][a-z0-9 -]*[0-9]",
         forms.ID_AFTER_NOUN, Placeholder.ID, group=1, keep=forms.word_starts, lower=True),
    Form("age-paren", r"\(" + _AGE + r"\)", forms.AGE_PAREN, Placeholder.AGE, group=1,
         gate=lambda t: "(9" in t.folded or "(1" in t.folded,
         cue_before=forms.AGE_PAREN_BEFORE, window=30),
    Form("month-day-dash", r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])\b",
         forms.MONTH_DAY_DASH, Placeholder.DATE, gate=lambda t: "-" in t.folded),
    Form("facility-city", r"(?-i:(?:Regional|Memorial|Community|General|University)" + _WS
         + r"{1,2}(?:Medical|Hospital|Health|Healthcare))\b", forms.FACILITY_CITY,
         Placeholder.ADDRESS, group=1,
         gate=lambda t: any(w in t.low for w in ("regional", "memorial", "community",
                                                 "general", "university"))),
    Form("county", r"(?-i:[a-z\]]" + _WS + r"(?:County|Co\.|Parish|Borough))", forms.COUNTY,
         Placeholder.ADDRESS, group=-1,
         gate=lambda t: any(w in t.low for w in forms._COUNTY_STEMS)),
    Form("lower-address", _LOW_ADDR, forms.LOWER_ADDRESS, Placeholder.ADDRESS),
    Form("unit-after-mark", r"\[(?:address|id)\],?" + _WS + r"{1,2}(?:[a-z]{2,9}\.?" + _WS
         + r"{0,2}#?" + _WS + r"{0,2}[0-9]|#" + _WS + r"{0,2}[0-9])", forms.UNIT_AFTER_MARK,
         Placeholder.ADDRESS, group=1, to_end=True, gate=lambda t: "[" in t.folded),
    Form("zip4-after-mark", r"(?-i:\[ADDRESS\]-[0-9]{4})", forms.ZIP4_AFTER_MARK,
         Placeholder.ADDRESS, group=1, gate=lambda t: "[" in t.folded),
    Form("after-name", r"(?-i:\[NAME\] [A-Z][a-z])", forms.AFTER_NAME, Placeholder.NAME, group=1,
         gate=lambda t: "[" in t.folded, keep=forms.name_word),
    Rule("role", r"(?:" + _ROLES + r")[\t\n .:,(]{1,6}" + _PARTICLES + _CAP_LOW, forms.find_roles),
    Rule("nickname", "|".join(re.escape(w) for w in forms._NICK_STEMS), forms.find_nickname),
    Rule("employer", "|".join(re.escape(w) for w in forms._WORK_STEMS), forms.find_employer),
    Form("contact-caps", r"(?-i:[A-Z][A-Z'-]+," + _WS + r"{0,2}(?:[A-Z][A-Z'-]+|\[NAME\]))",
         forms.CONTACT_CAPS, Placeholder.NAME, gate=lambda t: "," in t.folded,
         cue_before=forms.HEADER_BEFORE, window=24),
    Form("contact-mixed", r"(?:signed|proxy|hcp|poa|contact|ec|nok|guardian|attending|provider"
         r"|physician|surgeon|pathologist|by|from|attn|cc)" + _WS + r"{0,2}[:#-]?" + _WS
         + r"{0,3}(?-i:[A-Z][A-Za-z'-]*[a-z][A-Za-z'-]*(?:" + _WS + r"[A-Z][a-z][A-Za-z'-]+)?,"
         + _WS + r"{0,2}(?:[A-Z][a-z]|\[NAME\]))", forms.CONTACT_MIXED, Placeholder.NAME,
         gate=lambda t: "," in t.folded, cue_before=forms.SIGNED_BEFORE, window=30,
         keep=forms.mixed_contact),
    Form("initials", r"(?-i:(?:RN|LPN|CNA|NP|PA|RT|CRNA|EMT|MD|Dr\.?)" + _WS + r"{1,2}[A-Z]{2,3}"
         + _WS + r"{1,2}[a-z]{3})", forms.INITIALS, Placeholder.NAME, group=1,
         gate=lambda t: any(c in t.folded for c in forms._CREDENTIALS), keep=forms.initials),
    Form("dr-lower", r"\bdr\.?" + _WS + r"{1,2}[a-z][a-z'-]", forms.DR_LOWER, Placeholder.NAME,
         group=1, gate=lambda t: "dr." in t.low or "dr " in t.low, keep=forms.dr_lower),
)

#: Rule modules of their own (``name``, ``trigger``, ``find(folded)``), after the forms.
MODULES: tuple[TextRule, ...] = (idruns.RULE, dateparts.RULE, cityforms.RULE, namecues.RULE,
                                 nameforms.RULE, placeforms.RULE, worldforms.RULE,
                                 messageforms.RULE, reportforms.RULE, proseplaces.RULE,
                                 letterforms.RULE, dateruns.RULE, townforms.RULE,
                                 peopleforms.RULE, mailforms.RULE, streetforms.RULE,
                                 stateforms.RULE, hoodforms.RULE, kinforms.RULE,
                                 spokendates.RULE, townshapes.RULE, civicforms.RULE,
                                 postforms.RULE, motionforms.RULE, homestreets.RULE,
                                 unitstreets.RULE, monthtypos.RULE,
                                 ssnforms.RULE, cueddates.RULE, initialforms.RULE,
                                 compassplaces.RULE, kinforms.ABBR_RULE, signforms.RULE,
                                 streetforms.PERSON_RULE, dayforms.RULE,
                                 ageforms.RULE, dateshapes.RULE, placeshapes.RULE,
                                 refshapes.RULE, titlenames.RULE, relnames.RULE,
                                 spanishforms.RULE, letterdays.RULE,
                                 nationalids.RULE, abroadplaces.RULE,
                                 worldnames.RULE)

#: The rules of ``MODULES``, as rules of the table.
MODULE_RULES: tuple[AnyRule, ...] = tuple(External.of(r) for r in MODULES)

#: Every built-in rule, in the order its spans are listed.
RULES: tuple[AnyRule, ...] = NAMES + CONTEXT + FORMS + MODULE_RULES


@lru_cache(maxsize=1)
def table() -> tuple[AnyRule, ...]:
    """The built-in rules, then those of ``activities.deid.registry``.

    The seam for rules added without editing the engine: the registry's
    ``RULES`` (objects with ``name``, ``trigger`` and ``find(folded)``).
    """
    extra: Iterable[TextRule] = registry.RULES
    return RULES + tuple(External.of(r) for r in extra)


def find(folded: str, rules: Sequence[AnyRule] | None = None) -> list[Span]:
    """The spans of ``rules`` (default: the whole table) in a folded text, rule after rule;
    none made of placeholders alone (``marks.found``: a placeholder is never an identifier)."""
    t = cues.Text(folded)
    return marks.found(folded, [sp for rule in (table() if rules is None else rules)
                                for sp in rule.find(t)])


def active(texts: pa.Array, rules: Sequence[AnyRule] | None = None, *,
           other_all: bool = False) -> np.ndarray:
    """Which rule each text triggers: a (rules x texts) boolean matrix.

    One Arrow (RE2) pass per trigger over the column, or per group of triggers
    (``_groups``: the short ones, ``_SHORT``, and the long ones of ``GROUPS``): where the
    column's first texts mostly hold none of a group's triggers, the group is matched
    first as one alternation, then each of its triggers only over the texts it selects (a
    column of templated notes that holds none of them costs one pass, not one per
    trigger; a column of varied notes, where most texts hold one, is not read once more
    for it). A text that is not
    ASCII is folded first (``normalize.fold``: the rules read its folded copy)
    and the triggers run over the folded copies, so ``América Téllez`` meets
    the same rules as ``America Tellez``; a null triggers none. ``other_all``
    is kept for callers and changes nothing: every text is judged by the
    triggers. A text RE2 cannot judge as ``re`` does (``registry.re2_unsafe``:
    a ``\\v`` or a separator; a folded copy still not ASCII) triggers every rule.
    """
    rules = table() if rules is None else rules
    n = len(texts)
    out = np.zeros((len(rules), n), dtype=bool)
    if n == 0:
        return out
    judged = registry.folded(texts)  # each text as the rules read it: one RE2 pass per trigger
    grouped: set[int] = set()
    key = tuple((r.name, _short(r)) for r in rules)
    quiet = False  # the short triggers' sample selected none of the first texts
    for k, group in enumerate(_groups(key) if n >= headsample.MIN_ROWS else ()):
        union = _union(tuple(rules[i].trigger for i in group))
        short = k == 0 and _short(rules[group[0]])
        if not quiet:  # templated notes: the long groups run first, unsampled
            hit = headsample.sample_hits(judged, union)
            if hit > (SHORT_SHARE if short else LONG_SHARE) * min(n, headsample.SAMPLE):
                if short:  # varied notes: the long groups would select more still, unsampled
                    break
                continue  # one pass per trigger: the alternation would only add its own pass
            quiet = short and hit == 0
        grouped.update(group)  # the texts any of them selects: the others hold none
        at = np.flatnonzero(pc.fill_null(pc.match_substring_regex(judged, union), False)
                            .to_numpy(zero_copy_only=False))
        some = judged if len(at) == n else judged.take(pa.array(at))
        for i in group if len(at) else ():
            out[i, at] = registry.hits(some, rules[i], _compiled(rules[i].trigger))
    for i, rule in enumerate(rules):  # a rule's trigger_skip left out of its view
        if i not in grouped:
            out[i] = registry.hits(judged, rule, _compiled(rule.trigger))
    # where RE2 cannot judge as ``re`` ("from\vBoston": ``\s`` in a registry trigger; a
    # folded copy still not ASCII), every rule runs, as on the per-text path
    out[:, registry.re2_unsafe(judged)] = True
    return out


#: Long triggers matched first as one alternation per group, where a column's first texts
#: mostly hold none of them (``active``). Chosen by measurement, not by size: on the
#: reference release's notes (100k, after the known values) each long trigger costs a pass
#: of ~22 ms and each group's alternation one of 21-34 ms; on ``bench/deid.py``'s notes
#: (10k) each alternation costs about what its triggers cost one by one, where RE2's DFA for
#: other groupings grows with the text: ``town-forms`` with ``towns`` and ``world-forms``
#: 1.32 s against 0.07 one by one, with ``cued`` and ``date-parts`` 0.40 against 0.04;
#: ``letter-forms`` with ``date-runs`` and ``prose-places`` 0.85 against 0.07. So
#: ``town-forms`` is matched alone, as is a rule in no group (a new one). A rule's
#: ``trigger_skip`` is applied on the texts its group selects (``registry.hits``).
#: ``state-forms``, ``town-shapes`` and ``civic-forms`` (the states' names, toponymic
#: suffixes, civic nouns): 0.025 CPU-s as one alternation on the reference notes (100k) against
#: 0.064 one by one; 0.016 against 0.029 on the bench's notes (10k), where it selects 25 % of
#: the first texts and is not run first (``bench/deid_notescost.py passes``, issue 17).
#: The last two groups are deid12g-h's long triggers, each a pass of ~20 ms over the reference
#: notes in the scrub and again in the residual check, where none of them selects a note:
#: as one alternation 15 ms for the six (30k bench notes: 0.38 of their passes one by one)
#: and 28 ms for the pair; ``relation-names`` joined to the six made RE2's DFA grow on the
#: bench's notes (1.77 of the passes one by one), so it goes with ``day-forms`` (0.58). The
#: reference release's scrub went 1.56-1.67 -> 1.40-1.47 CPU-s and its check 0.72-0.83 ->
#: 0.59-0.76, the scrubbed notes byte-identical; the bench's 100k notes unchanged (scrub
#: 97-102 s, check 48 s both ways).
#: ``month-typos`` joined the last group when its trigger grew from a word of four letters or
#: more before a number (80 % of clinical prose: ``bench/deid_triggers.py``'s ``prose``) to
#: the words a misspelled month opens with (10 %): alone its pass added ~0.03 CPU-s to the
#: reference release's scrub and check each; in the group, nothing measurable.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("id-after-noun", "lower-address", "role", "contact-mixed", "name-cues", "message-forms",
     "geo"),
    ("cued", "date-parts", "people-forms"),
    ("name-forms", "place-forms"),
    ("date-runs", "prose-places"),
    ("towns", "world-forms"),
    ("letter-forms", "phone"),
    ("state-forms", "town-shapes", "civic-forms"),
    ("abroad-places", "place-shapes", "age-forms", "national-ids", "world-names", "sign-forms"),
    ("relation-names", "day-forms", "month-typos"),
)


@lru_cache(maxsize=8)
def _groups(rules: tuple[tuple[str, bool], ...]) -> tuple[tuple[int, ...], ...]:
    """The groups of ``active`` among ``rules`` (name, short: as indices, two or
    more a group)."""
    short = tuple(i for i, (_, sh) in enumerate(rules) if sh)
    out = [short] if len(short) > 1 else []
    for group in GROUPS:
        at = tuple(i for i, (nm, sh) in enumerate(rules) if nm in group and not sh)
        if len(at) > 1:
            out.append(at)
    return tuple(out)


def _compiled(trigger: str) -> str:
    return "(?i)" + relaxed(trigger)


#: Triggers up to this long (relaxed) are matched first as one alternation: RE2's DFA for
#: the alternation of the short ones stays small (on ``bench/deid.py``'s notes 26 ms for 27
#: triggers that cost 60 ms one by one); with the longer ones (cue lists, the street
#: grammar, word tries) it grows with the text and costs more than their passes.
_SHORT = 200


def _short(rule: AnyRule) -> bool:
    """Whether the rule's trigger joins the first alternation (a trigger with a
    ``trigger_skip`` is matched on its own: the skip is applied to its matches)."""
    return len(relaxed(rule.trigger)) <= _SHORT and not getattr(rule, "trigger_skip", "")


# How many of a column's first texts tell whether the alternation of the short triggers
# pays: when it selects at most half of them it runs first (the choice changes the work,
# never the result); columns under ``headsample.MIN_ROWS`` texts skip it. Each sample
# compiles its alternation once more (1-9 ms a long group, ~16 ms for all of them), so
# ``active`` samples the long groups only where the short triggers' sample selected some
# text: where it selected none (templated notes: the reference release's), the long
# groups' alternations run first unsampled, as their samples would have chosen.


#: The share of a column's first texts the short triggers may select for their alternation
#: to run first.
SHORT_SHARE = 0.5
#: The share of a column's first texts a group of long triggers may select for its
#: alternation to run first (the short ones': ``SHORT_SHARE``). A long group's alternation costs one
#: to two passes of its triggers, and they then run on what it selects: on the texts
#: around the placeholders a rule pass wrote (``scrub._around``, bench notes), groups that
#: selected 12-46 % cost 0.18 s against 0.12 one by one.
LONG_SHARE = 0.125


@lru_cache(maxsize=8)
def _union(triggers: tuple[str, ...]) -> str:
    """One RE2 pattern that matches a text iff one of ``triggers`` does (as ``active``
    reads each)."""
    return "(?i)(?:" + "|".join("(?:" + relaxed(t) + ")" for t in triggers) + ")"


#: A bounded repetition ``{m,n}``; group 1 is ``m``.
_BOUNDED = re.compile(r"\{([0-9]+),[0-9]+\}")


@lru_cache(maxsize=256)
def relaxed(pattern: str) -> str:
    """``pattern`` with each bounded repetition ``{m,n}`` outside a class made ``{m,}``.

    Why: RE2 runs a trigger as a DFA over the column, and bounded repetitions
    of character classes (the street grammar inside ``cityforms``' trigger:
    ``(?:[A-Z0-9](?:[A-Za-z0-9'-]{1,24}\\.?)?\\s{1,3}){1,3}``) multiply its
    states until RE2 spends most of the pass building them: the ``towns``
    trigger cost 6.4 µs per bench note, 1.1 unbounded. A text that holds a
    match of ``pattern`` holds one of the result (``x{m,n}`` is in ``x{m,}``),
    so a trigger stays a superset of the texts its rule finds something in;
    a few more texts reach the rule, which finds nothing more in them.
    Escapes and character classes (``[{1,2}]``, ``[[:digit:]]``) are kept as
    they are.
    """
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i) and ":]" in pattern[i + 2:]:  # "[[:digit:]]"
                j = pattern.index(":]", i + 2) + 2
            else:
                j, in_class = i + 1, c != "]"
            out.append(pattern[i:j])
            i = j
            continue
        if c == "[":  # a "]" right after "[" or "[^" is a member, not the end
            j = i + 1 + pattern.startswith("^", i + 1)
            j += pattern.startswith("]", j)
            out.append(pattern[i:j])
            i, in_class = j, True
            continue
        m = _BOUNDED.match(pattern, i) if c == "{" else None
        if m is not None:
            out.append("{" + m.group(1) + ",}")
            i = m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)
