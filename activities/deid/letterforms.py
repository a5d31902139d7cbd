"""Names where letters and dictation put them: sign-offs, salutations, possessives, particles.

The cue rules find a name after a title, a relation or a header in the same sentence.
Correspondence and dictation put names in other places, and these are general forms of
them (found by ``fresh-8``; 45 CFR 164.514(b)(2)(i)(A): names of the individual, of
relatives and household members):

* a **name alone on a line after a dash** (``-- Tom``) or on the line after a
  **valediction** (``Best,`` / ``Kind regards,`` then ``Angela Ruiz``): capitalized words,
  none a clinical or document word (``words.NOT_NAMES``); after a dash, a given name the
  dictionary holds or a word that is no English word;
* a **signature** after ``Signed:``/``Signature:`` (``Signed: KM mcallister MD``): up to
  five words before a credential or the end of the line, one at least no English word;
* a **possessive before a relation** (``Olsen-Correa's daughter``);
* a **nickname in quotes**, after ``calls him`` / ``known as`` / ``goes by`` (``Everyone
  calls him 'Tito'``) or between a given and a family name (``Bianca "Junebug"
  Provencher``: the whole name);
* **name words after a name already replaced**, in lower case or with a particle
  (``[NAME] macleod``, ``[NAME] an tSaoir``, ``[NAME] martin toledo``): words no English
  word, or names of the dictionary that are English words only in lower case; in a
  **salutation** (``Dear Ms [NAME] Bhride,``) every word up to the comma;
* a **lower-case name between ``patient``/``pt`` and a verb** (``patient kevim dinis mora
  seen today``): two to four words, each a name of the dictionary or no English word, one
  at least a given or family name of the dictionary;
* a **Spanish title** (``Sra.``, ``Sr.``, ``Dona``) with one to four capitalized words joined by
  particles (``Sra. Costa y Morais``), and **particles before a replaced name** (``Jerome de
  la [NAME]``: the particles and a given name before them).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts. After a replaced name it selects only a word that is none of
``AFTER_NAME_WORDS`` (``[NAME] seen on``, ``[NAME] reports``: no name word starts the run
there), so the scrubber and the residual check, which read the same table, skip the
notes that only hold a replaced name and a common word after it.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import names
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.otherword import none_of
from medpipe.activities.deid.safelist import english, vocabulary
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.titlenames import TITLE_WORDS
from medpipe.activities.deid.words import NOT_GIVEN_BEFORE_PARTICLE, NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAP = r"(?:[A-Z][a-z][A-Za-z'-]*|[A-Z]'[A-Z][a-z]+)"
DASH_SIGN = re.compile(r"^[ \t]*-{1,2}[ \t]?(" + _CAP + r"(?:[ \t]" + _CAP + r")?)"
                       r"(?=[ \t]*$|\s{1,3}[A-Z])", re.MULTILINE)
_VALEDICTION = (r"(?:best|best\s{1,2}regards|kind\s{1,2}regards|warm\s{1,2}regards|warmly|regards"
                r"|sincerely|yours\s{1,2}sincerely|yours\s{1,2}truly|respectfully|thanks"
                r"|thank\s{1,2}you|many\s{1,2}thanks|cheers|take\s{1,2}care|with\s{1,2}thanks)")
VALEDICTION = re.compile(r"^[ \t]*(?i:" + _VALEDICTION + r")[,!.]?[ \t]*\n(?:[ \t]*\n)?[ \t]*("
                         + _CAP + r"(?:[ \t](?:[A-Z]\.|" + _CAP + r")){0,3})[ \t]*$",
                         re.MULTILINE)
_CREDENTIALS = names._CREDENTIALS + r"|PA|EMT-P|EMT|MBBS|RT"
_NAME_WORD = r"[A-Za-z'][A-Za-z'-]*"
SIGNED = re.compile(r"\b(?i:signed|signature|e-signed|esigned)(?:[ \t](?i:by))?[ \t]*:[ \t]*("
                    + _NAME_WORD + r"(?:[ \t]" + _NAME_WORD + r"){0,4}?)(?=[ \t]*,?[ \t]*(?:"
                    + _CREDENTIALS + r")\b|[ \t]*$)", re.MULTILINE)
POSSESSIVE = re.compile(r"\b((?-i:(?:(?:San|Santa|De|Del|Van|Von|La|Le|Di|Da|Du|St\.?)\s)?"
                        r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]'[A-Z][a-z]+))'s\s{1,2}(?:"
                        + names._RELATIONS + r")\b")
_Q = r"[\"']"
NICKNAME = re.compile(r"\b(?:calls?\s{1,2}(?:him|her|them|me)|called|known\s{1,2}as|goes\s{1,2}by"
                      r"|nicknamed|nickname\s{0,2}:?|prefers)\s{1,2}" + _Q + r"([A-Z][a-z]+)"
                      + _Q, re.IGNORECASE)
_NAME_OR_MARK = r"(?:" + _CAP + r"|\[NAME\])"
QUOTED_INSIDE = re.compile(r"(?<![A-Za-z])(" + _NAME_OR_MARK + r"(?:\s{1,2}" + _NAME_OR_MARK
                           + r")?\s{1,2}" + _Q + r"(?:[A-Z][a-z]+"
                           r"|\[NAME\])" + _Q + r"\s{1,2}" + _NAME_OR_MARK + r")")
_PARTICLE = r"(?:mac|mc|o|ni|nic|de|del|la|van|von|der|an|y|da|di|dos|du|le|ui|bin|ibn)"
AFTER_MARK = re.compile(r"\[NAME\]((?:\s{1,2}(?:" + _PARTICLE
                        + r"\s{1,2})?[A-Za-z][A-Za-z'-]+){1,2})")
_AFTER_MARK_WORD = re.compile(r"\s{1,2}((?:" + _PARTICLE + r"\s{1,2}){0,2})([A-Za-z][A-Za-z'-]+)")
SALUTATION = re.compile(r"\b(?i:dear|hi|hello)\s{1,2}(?i:dr|ms|mrs|mr|miss|mx|prof)\.?\s{1,2}("
                        r"(?:[A-Za-z'][A-Za-z'-]*|\[NAME\])(?:\s{1,2}(?:[A-Za-z'][A-Za-z'-]*"
                        r"|\[NAME\])){0,4}),")
#: A title in lower case and a given name (``dr christopher``), as dictation writes it: the
#: name words after it are taken as after a replaced name.
LOWER_TITLE = re.compile(r"\b(?:dr|mr|mrs|ms)\.?\s{1,2}[a-z][a-z'-]+(?=\s)")
_LOWER_WORD = r"(?:[a-z][a-z'-]+|\[NAME\])"
LOWER_PATIENT = re.compile(r"\b(?:patient|pt)\s{1,2}(" + _LOWER_WORD + r"(?:\s{1,2}" + _LOWER_WORD
                           + r"){1,4}?)"
                           r"\s{1,2}(?:seen|is|was|presents|presented|arrived|arrives|came|comes"
                           r"|returns|returned|states|reports|here|has|had|who|with|today)\b")
_LINK = r"(?:y|e|de|del|de\s{1,2}la|de\s{1,2}los|de\s{1,2}las)"
SPANISH_TITLE = re.compile(r"\b(?:Sra|Sr|Srta|Dona|Don|Senora|Senor)\.?\s{1,2}(" + _NAME_OR_MARK
                           + r"(?:\s{1,2}(?:" + _LINK + r"\s{1,2})?" + _NAME_OR_MARK
                           + r"){0,3})")
_JOIN = r"(?:de\s{1,2}la|de\s{1,2}los|de\s{1,2}las|del|de|y|van\s{1,2}der|van|von|da|dos|du)"
#: A name joined by particles (``Jerome de la Cruz``, ``Costa y Morais``, ``Jerome de la
#: [NAME]``): a capitalized word, particles, a capitalized word or a replaced name.
#: A capitalized word right before a replaced name (``Kevim [NAME]``): a given name of the
#: dictionary or no English word.
BEFORE_MARK = re.compile(r"\b(" + _CAP + r")\s{1,2}\[NAME\]")
#: A Gaelic family name (``O Suilleabhain``, ``Mac Giolla Phadraig``, ``Ni Bhriain``) with the
#: initials before it: a patronymic particle, maybe ``an``/``Giolla``, a word no English word.
GAELIC = re.compile(r"\b((?:[A-Z]\.\s{0,2}){0,3}(?:Mac|Mc|O|Ni|Nic|Ui|Mhic)\s{1,2}(?:(?:an|a|Giolla"
                    r"|Ghiolla)\s{1,2})?([a-z]?[A-Z][a-z]{2,}))")
#: A relative by relation, then a given name in lower case and a verb (``granddaughter
#: tracy is staying``): the name may be an English word in lower case (``heather``).
RELATIVE_LOWER = re.compile(r"\b(?:" + names._RELATIONS + r")\s{1,2}([a-z][a-z'-]{1,20})"
                            r"(?:\s{1,2}([a-z][a-z'-]{1,20}))?\s{1,2}(?:is|was|will|has|had|came"
                            r"|comes|called|calls|visited|visits|helps|drove|brought|stays|lives"
                            r"|says|said|reports|states|can|and|who)\b")
PARTICLE_NAME = re.compile(r"\b(" + _CAP + r")\s{1,2}" + _JOIN + r"\s{1,2}(" + _NAME_OR_MARK
                           + r")")
_MORE_CAP = re.compile(r"\s{1,2}(" + _CAP + r")\b")


def _not_word(w: str) -> bool:
    """No English word in any case and no clinical word (``tSaoir``, ``macleod``)."""
    w = w.lower()
    return w not in vocabulary()[0] and w not in NOT_NAMES


def _name_word(w: str) -> bool:
    """A name of the dictionary that is an English word only in lower case (``martin``),
    or no English word at all."""
    low = w.lower()
    given, family = dictionary()
    return _not_word(w) or ((low in given or low in family) and low not in vocabulary()[0]
                            and low not in NOT_NAMES)


def _known(w: str) -> bool:
    low = w.lower()
    return low in dictionary()[0] or low in dictionary()[1]


_INITIALS = re.compile(r"[A-Z]{1,3}|(?:[A-Z]\.){1,3}")
_PARTICLES = frozenset(_PARTICLE[3:-1].split("|"))


def _words_ok(text: str) -> bool:
    """No word of ``text`` is a clinical or function word, particles (``an``, ``de``) aside."""
    return not any(w.lower() in NOT_NAMES and w.lower() not in _PARTICLES
                   for w in re.findall(r"[A-Za-z']+", text.replace("[NAME]", " ")))


def _continued(folded: str, at: int) -> int:
    """The end of up to two name words after ``at`` (a particle counts with its word)."""
    end = at
    for _ in range(2):
        w = _AFTER_MARK_WORD.match(folded, end)
        if w is None or not _name_word(w.group(2)):
            break
        end = w.end()
    return end


def _no_word_at_all(w: str) -> bool:
    """No English word even in lower case (``macleod``, ``toledo``; not ``rose``, ``back``)."""
    low = w.lower()
    return low not in english() and low not in NOT_NAMES and low not in _PARTICLES


def _after_mark(folded: str) -> list[Span]:
    """Name words after a replaced name; one of them at least no English word at all: a
    lower-case dictionary name that is also a word (``martin``) counts only beside one
    (``[NAME] martin toledo``), so ``called [NAME] back``, ``told [NAME] bill was paid``
    keep their words (the residual check reads the output with this rule too)."""
    out: list[Span] = []
    for m in AFTER_MARK.finditer(folded):
        end = _continued(folded, m.start(1))
        words = folded[m.start(1):end].split()
        if end > m.start(1) and any(_no_word_at_all(w) for w in words) \
                and not any(_CREDENTIAL.fullmatch(w.strip(",.")) for w in words):
            out.append((m.start(1) + 1, end, Placeholder.NAME))
    return out


#: A credential after a name (``[NAME] PA-C``): no word of the name.
_CREDENTIAL = re.compile(r"(?:" + names._CREDENTIALS + r")")


def _after_lower_title(folded: str) -> list[Span]:
    out: list[Span] = []
    for m in LOWER_TITLE.finditer(folded):
        end = _continued(folded, m.end())
        if end > m.end():
            out.append((m.end() + 1, end, Placeholder.NAME))
    return out


def _particle_names(folded: str) -> list[Span]:
    """Names joined by particles; the first word must be a given name of the dictionary or
    no English word, the last no clinical word; up to two capitalized words after it."""
    out: list[Span] = []
    for m in PARTICLE_NAME.finditer(folded):
        first, last = m.group(1), m.group(2)
        if not (first.lower() in dictionary()[0] or _not_word(first)) or \
                last.lower() in NOT_NAMES or first.lower() in NOT_NAMES or \
                first.lower() in NOT_GIVEN_BEFORE_PARTICLE:  # "Dia de los Muertos"
            continue
        end = m.end()
        for _ in range(2):
            w = _MORE_CAP.match(folded, end)
            if w is None or w.group(1).lower() in NOT_NAMES:
                break
            end = w.end()
        out.append((m.start(1), end, Placeholder.NAME))
    return out


def _relatives_lower(folded: str) -> list[Span]:
    out: list[Span] = []
    given = dictionary()[0]
    for m in RELATIVE_LOWER.finditer(folded):
        first = m.group(1)
        if first in NOT_NAMES or first in vocabulary()[0] or not (first in given
                                                                  or _not_word(first)):
            continue
        second = m.group(2)
        end = m.end(2) if second is not None and _name_word(second) else m.end(1)
        out.append((m.start(1), end, Placeholder.NAME))
    return out


def find(folded: str) -> list[Span]:
    """Spans of names in sign-offs, signatures, salutations, possessives, nicknames, after
    a replaced name, after ``patient`` in lower case and after a Spanish title."""
    out: list[Span] = []
    low = folded.lower()
    if "-" in folded:
        for m in DASH_SIGN.finditer(folded):
            words = m.group(1).split()
            if len(words) > 1 and not _name_word(words[1]):  # "-- Tom Hi Dr. ..."
                words.pop()
            if words and _words_ok(" ".join(words)) and (words[0].lower() in dictionary()[0]
                                                         or _not_word(words[0])):
                end = m.start(1) + len(" ".join(words))
                out.append((m.start(1), end, Placeholder.NAME))
    if "\n" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in VALEDICTION.finditer(folded)
                if _words_ok(m.group(1))]
    if "sign" in low:
        for m in SIGNED.finditer(folded):
            words = m.group(1).split()
            names_ = words[1:] if _INITIALS.fullmatch(words[0]) else words  # "ML", "MD"
            if any(_not_word(w) and len(w) > 2 for w in names_) and _words_ok(" ".join(names_)):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    if "'s" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in POSSESSIVE.finditer(folded)
                if m.group(1).lower() not in NOT_NAMES and _name_word(m.group(1).split()[-1])]
    if '"' in folded or "'" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in NICKNAME.finditer(folded)]
        for m in QUOTED_INSIDE.finditer(folded):
            start = m.start(1)
            first = m.group(1).split()[0]
            if first.lower() in NOT_NAMES:  # "Pt Mia "Billy" Preston"
                start += len(first) + 1
            if _words_ok(folded[start:m.end(1)]) and folded[start] not in "\"'":
                out.append((start, m.end(1), Placeholder.NAME))
    if "[NAME]" in folded:
        out += _after_mark(folded)
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in BEFORE_MARK.finditer(folded)
                if m.group(1).lower() not in NOT_NAMES and m.group(1).lower() not in TITLE_WORDS
                and (_not_word(m.group(1)) or m.group(1).lower() in dictionary()[0])]
    if "dear" in low or "hi" in low or "hello" in low:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in SALUTATION.finditer(folded)
                if _words_ok(m.group(1).replace("[NAME]", " "))]
    if "dr" in folded or "mr" in folded or "ms" in folded:
        out += _after_lower_title(folded)
    if " y " in folded or " d" in folded or " v" in folded:
        out += _particle_names(folded)
    if "patient " in folded or "pt " in folded:
        for m in LOWER_PATIENT.finditer(folded):
            words = m.group(1).split()
            if all(w == "[NAME]" or _name_word(w) or _known(w) and w not in NOT_NAMES
                   for w in words) and any(w == "[NAME]" or _known(w) for w in words):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    if "Mac " in folded or "Mc " in folded or "O " in folded or "Ni" in folded \
            or "Ui " in folded or "Mhic " in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in GAELIC.finditer(folded)
                if _not_word(m.group(2))]
    out += _relatives_lower(folded)
    if "sr" in low or "don" in low or "senor" in low:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in SPANISH_TITLE.finditer(folded)
                if _words_ok(re.sub(r"\b(?:y|e|de|del|la|los|las)\b", " ", m.group(1)))]
    return out


#: Words that often follow a name and are never name words (``_name_word``: English in
#: any case, or clinical and function words), so that nothing after a replaced name
#: starts with them (``[NAME] seen on``, ``[NAME] reports``). The trigger's after-mark
#: cue leaves them out: every note of the reference release reads ``[NAME] seen``, and
#: ``find`` ran on each (``tests/activities/deid/test_letterforms_trigger.py`` holds that
#: none is a name word and that the trigger still selects what the rule finds).
AFTER_NAME_WORDS = tuple("""
is was has had have having will would should shall can could may might must did does do doing
done are were be been being am seen sees saw see reports reported reporting states stated
stating denies denied presents presented presenting returns returned returning arrived arrives
arriving came comes coming called calls calling asked asks agrees agreed declines declined
refuses refused tolerated tolerating tolerates complains complained notes noted says said feels
felt admits admitted endorses endorsed underwent received requires required needs needed wants
wanted wishes wished lives lived works worked helps helped drove visited visits understands
understood verbalizes ambulates continues continued remains remained appears appeared started
starts stopped takes took taking uses used went goes going left attends attended follows
followed resting sleeping walked walks got gets gave given told tells spoke speaks phoned
and or but nor to in on at for from with without by of about re as after before during until
since into onto over under via per than then when while where who whom whose which that this
these those the his her hers him he she they them their it its our we you your my me today
tonight tomorrow yesterday now here there also again still already not no yes ok okay pt
patient pts md rn np dob mrn mr ms mrs dr
""".split())

_W = _WS + r"{1,2}"
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = "|".join((
    r"(?m:^)[\t ]*-{1,2}[\t ]?(?-i:[A-Z][a-z]|[A-Z]')",
    r"(?:" + _VALEDICTION.replace(r"\s", _WS) + r")[,!.]?[\t ]*\n",
    r"\b(?:signed|signature|e-signed|esigned)\b",
    r"(?-i:[A-Z][a-z]+)'s" + _W + r"(?:" + names._RELATIONS + r")\b",
    r"(?:call|called|calls|known|goes|nicknamed|nickname|prefers)" + _WS + r"{0,2}:?[^\n]{0,12}"
    r"[\"'](?-i:[A-Z])",
    r"(?:[a-z]|\[name\])" + _W + r"[\"'](?:[a-z]|\[name\])",
    # after a replaced name, a word ``_continued`` may take (particles before it): not one
    # of AFTER_NAME_WORDS, which no name word is
    r"\[name\]" + _W + r"(?:" + _PARTICLE + _W + r"){0,2}" + none_of(AFTER_NAME_WORDS),
    r"(?-i:[A-Z][a-z]|[A-Z]')[A-Za-z'-]*" + _W + r"\[name\]",
    r"\b(?-i:Mac|Mc|O|Ni|Nic|Ui|Mhic)" + _W + r"(?:(?:an|a|giolla|ghiolla)" + _W
    + r")?(?-i:[a-z]?[A-Z][a-z]{2})",
    r"\b(?:" + names._RELATIONS + r")" + _W + r"(?-i:[a-z])[a-z'-]",
    # a salutation's words may run over a line break (``Dear Ms Anna\nBhride,``)
    r"\b(?:dear|hi|hello)" + _W + r"(?:dr|ms|mrs|mr|miss|mx|prof)\.?" + _W + r"[^,]{1,60},",
    # after ``dr christopher``, ``_continued`` takes words in either case (``Macleod``)
    r"\b(?-i:dr|mr|mrs|ms)\.?" + _W + r"(?-i:[a-z])[a-z'-]+" + _W + r"[a-z]",
    r"(?-i:(?:patient|pt))" + _W + r"(?-i:[a-z])[a-z'-]+" + _W + r"(?-i:[a-z])",
    # a lower-case run after ``patient`` that holds a replaced name (``patient [NAME] kevim
    # seen``, ``pt [NAME] [NAME] seen``): the after-mark cue no longer selects it for it
    r"(?-i:(?:patient|pt))" + _W + r"(?:(?-i:[a-z])[a-z'-]+" + _W + r")?\[name\]",
    r"\b(?-i:Sra|Sr|Srta|Dona|Don|Senora|Senor)\.?" + _W + r"(?-i:[A-Z]|\[NAME\])",
    # a capitalized word as ``_CAP`` reads it (``Ana's de la [NAME]``), then particles
    r"(?-i:[A-Z][a-z]|[A-Z]')[A-Za-z'-]*" + _W + r"(?:de|del|y|van|von|da|dos|du)" + _W
    + r"(?:la" + _W + r"|los" + _W + r"|las" + _W + r"|der" + _W + r")?(?-i:[A-Z]|\[NAME\])",
))
#: The rule, for the rule table.
RULE = FunctionRule("letter-forms", TRIGGER, find)
