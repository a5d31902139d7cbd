"""Builds the safe-list vocabulary that ``safelist`` ships (development only).

The safe-list mode keeps a word only when it is known not to be PHI. The
vocabulary is generated here once and shipped as two text files, so nothing
is downloaded or computed at run time:

* ``safe_words.txt``: safe in any case (``aspirin``, ``Aspirin``, ``ASPIRIN``);
* ``safe_lower.txt``: words that are also a given, family or place name
  (``rose``, ``brown``, ``grace``, ``reading``) and that Webster's lists as a
  lower-case word: safe only written in lower case; capitalized or in
  capitals they are taken as the name. A name that is no dictionary word in
  lower case (``john``, ``aaliyah``, ``parkinson``) is on neither list.

Sources (pinned by the regenerate command below):

* common English: the ``TOP_N`` most frequent English words of ``wordfreq``
  3.1.1 (code Apache-2.0; word data CC BY-SA 4.0, from Wikipedia, subtitles,
  books, news and web text: the generated lists carry that licence and
  attribution in their header);
* drug names: every single-word drug name and synonym of
  ``drug-named-entity-recognition`` 2.0.9 (MIT; its dictionary is built from
  DrugBank's open vocabulary (CC0), MeSH (NLM, public domain), MedlinePlus
  and the NHS medicines pages);
* the dictionary test: Webster's Second International (1934, public
  domain) as shipped by ``english-words`` 2.0.2 (MIT), its ``web2`` list;
* clinical words no list above holds: ``CLINICAL`` below (anatomy,
  abbreviations, units, findings: a documented hand list).

Minus: the given and family names of ``given_names.txt``/``family_names.txt``
(Faker, MIT) and the places of ``places.txt`` (GeoNames, CC BY 4.0), which
go to the lower-case-only list instead (the function words of
``words.NOT_NAMES`` stay safe in any case).

Regenerate (in a scratch environment):
``pip install wordfreq==3.1.1 drug-named-entity-recognition==2.0.9
english-words==2.0.2 &&
python tests/data/build_safe_vocab.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

#: Where the shipped lists live (this script is development tooling, not shipped code).
DEID = Path(__file__).resolve().parents[2] / "activities" / "deid"
sys.path.insert(0, str(DEID.parents[1]))

#: Common English words taken from wordfreq (by frequency). Tuned on the non-sealed
#: bench sets: see docs/deid.md for the figures.
TOP_N = 60_000

#: Clinical vocabulary that the sources above may lack (lower case; hand list).
CLINICAL = """
abd abdo abg abx ac acei adls afib aki alt alk alkphos amb ams anc aox aox3 aox4 ap apap
appy arb ards asa asd ast av avm bbb bid bipap bka bm bmi bmp bnp bp bph bpm brbpr bs bsa bun
bx ca cabg cad cath cbc cc ccu cdiff chf ckd cmp cns copd cp cpap cr crp csf ct cta cva cvp cxr
d5w dc dcd dm dnr dni doe dtr dvt dx ecg echo ed eeg egd ekg emr ent eom eomi ercp esr etoh
ett fbs ffp fio2 fs fx gcs gerd gfr gi gsw gtt gu gyn hct hd hdl hgb hiv hpi hr hs htn hx ibd
ibs icd icu iddm ild im inr io ivc ivf iv jvd jvp kub lad lbbb ldl lft lfts lle llq lmp loc lp
lue luq lv lvef lvh mac mcv mi mmhg mmol mrsa mri ms mvc na nad nc ng ngt nkda npo nsaid nsr
nstemi ntd nv od or os ot otc pacu pcn pe peep peg perrl perrla pft picc plt pmh pna po pod
pr prbc prn psa psh pt ptt pud pvd qd qhs qid qod rbc rca rle rll rlq rml rn ros rrr rr rue
ruq rx sbp sc sl slp snf sob spo2 sq ssri stat stemi sx tb tbi tia tid tka tkr tpn tsh tte
tx uri uti va vs vss vte wbc wnl xr yo y/o
mg mcg ug ng kg g ml mL dl cl l meq mmol iu units unit cm mm um km lb lbs oz in ft hrs hr min
mins sec secs wk wks mo mos yr yrs bpm mmhg cmh2o
abdomen abdominal acetabulum achilles adenopathy adnexa adrenal alveolar anterior aorta
aortic apical appendix arteriole artery atrium auricular axilla axillary biceps bilateral
bronchi bronchial bronchiole calcaneus capillary carotid cecum cerebellum cerebral cervical
cervix clavicle coccyx colon conjunctiva cornea coronary cranial cubital deltoid dermis
diaphragm distal dorsal duodenum dura epidermis epigastric epiglottis esophagus femoral femur
fibula flank forearm frontal fundus gallbladder gastric gluteal groin hallux hepatic hilar
humerus hypogastric ileum iliac inguinal intercostal jejunum jugular labia lateral larynx
lumbar lymph malleolus mandible maxilla medial mediastinum meninges mesentery metacarpal
metatarsal mitral myocardium nares occipital olecranon orbit ovary palate pancreas parietal
patella pelvis perineum periorbital peritoneum phalanx pharynx pleura popliteal posterior
prostate proximal pulmonic pylorus radial radius rectum renal retina sacral sacrum scapula
sclera scrotum sigmoid sinus spleen sternum subclavian supraclavicular suprapubic talus
tarsal temporal tendon testis thoracic thorax thyroid tibia tibial tonsil trachea tricuspid
tympanic ulna ulnar umbilicus ureter urethra uterus uvula vagina vena ventricle vertebra
vertebral vulva xiphoid
mrn dob ssn pcp ed er icu or pacu ob gyn obgyn ekg ecg covid19 healthcare fibromyalgia
antidepressant antidepressants paediatric pediatric ultrasound email emails online
ip pps ef mr ihc orif mod eta ebl rass ndc ss gbs rw ou ems wc biba sw rtw edd ec pm am
her2 fev1 fvc phq phq9 phq-9 gad gad7 gad-7 ki-67 ki67 ipv4 ipv6 db hz khz erx dtap tdap
copay copays titrate titrated titrating voiding granulation standby desktop workstation
varicella sternal forklift cyberbullying prescriber prescribers newborn newborns cooperative
callback recheck rechecked audiogram telepsych telehealth telemedicine inpt inpatient
outpatient appt appts msg msgs qty rec'd recd accessioned accession sealant sealants prophy
addr tel fax ext mailto dr drs mrs ms mr ok okay pcr licence license apgar apgars
al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm
ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc pr
i ii iii iv v vi vii viii ix x xi xii
held told sent kept left felt brought taught caught bought
ph med meds rec eta electronically grimacing emt emts attn egfr gfr ldl hdl tsh
ph med meds rec eta electronically grimacing emt emts attn egfr gfr ldl hdl tsh
afebrile anicteric atraumatic auscultation bibasilar bruit crackles cyanosis diaphoresis
diaphoretic distension dyspnea dysuria ecchymosis edema effusion erythema exudate febrile
gallop guarding hematuria hemoptysis hepatomegaly icterus induration lymphadenopathy
malaise melena murmur nontender normocephalic orthopnea pallor palpitations paresthesia
petechiae rales rhonchi rigidity splenomegaly stridor syncope tachycardia tachypnea tenderness
tinnitus vertigo wheezing wheezes normothermic euvolemic hypervolemic hypovolemic ambulatory
ambulating nonambulatory postop preop postoperative preoperative intraoperative
perioperative hba1c a1c tdap mmr covid sars cov coronavirus influenza rsv hpv hbv hcv
""".split()

_WORD = re.compile(r"(?=[a-z0-9'-]*[a-z])[a-z0-9]+(?:['-][a-z0-9]+)*")


def _read(name: str) -> set[str]:
    here = DEID
    return {ln.strip() for ln in (here / name).read_text().splitlines()
            if ln.strip() and not ln.startswith("#")}


#: Inflections stripped (and the stem's ending restored) for the dictionary test.
_SUFFIXES = (("'s", ""), ("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"),
             ("ied", "y"), ("ing", ""), ("ing", "e"), ("ly", ""), ("er", ""), ("er", "e"),
             ("est", ""), ("ness", ""), ("ment", ""), ("ers", ""), ("ings", ""))


def in_dictionary(word: str, lower_words: set[str]) -> bool:
    """Whether ``word`` or its stem (one inflection off) is a lower-case dictionary word."""
    if word in lower_words:
        return True
    if "-" in word:
        return all(in_dictionary(p, lower_words) for p in word.split("-") if p)
    for suf, rep in _SUFFIXES:
        if word.endswith(suf) and len(word) > len(suf) + 2:
            stem = word[:len(word) - len(suf)]
            if stem + rep in lower_words:
                return True
            if suf in ("ed", "ing", "er", "est") and stem[-1] == stem[-2] \
                    and stem[:-1] in lower_words:  # controlled, referring
                return True
    return False


def build(top_n: int = TOP_N, *, webster_filter: bool = True) -> tuple[list[str], list[str]]:
    """(safe in any case, safe in lower case only), sorted.

    Common English words count only when Webster's lists them (or their stem)
    in lower case: wordfreq's list also holds the proper nouns of its corpora
    (``zelda``, ``chisholm``, ``feldman``), names no name list may hold.
    """
    import bz2
    import pickle  # noqa: S403 - the package's own shipped dictionary, read at build time

    import drug_named_entity_recognition as dner
    import english_words
    import wordfreq

    from medpipe.activities.deid.normalize import fold, lower
    from medpipe.activities.deid.words import NOT_NAMES

    def norm(w: str) -> str:
        return lower(fold(w)[0])

    english = {norm(w) for w in wordfreq.top_n_list("en", top_n)}
    path = Path(dner.__file__).parent / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path) as f:
        drugs = {norm(v) for v in pickle.load(f)["drug_variant_to_canonical"]}  # noqa: S301
    names = _read("given_names.txt") | _read("family_names.txt")
    places = _read("places.txt")
    common = {norm(w) for w in wordfreq.top_n_list("en", 1000)}
    place_words = {p for p in places if " " not in p} | {
        part for p in places if " " in p for part in p.split() if part not in common}
    webster = {w for w in english_words.get_english_words_set(["web2"]) if w.islower()}
    if webster_filter:  # a word no dictionary lists in lower case is taken as a proper noun
        english = {w for w in english if in_dictionary(w, webster)}
    words = {w for w in english | {d for d in drugs if len(d) >= 3} | set(CLINICAL)
             | NOT_NAMES if _WORD.fullmatch(w)}
    ambiguous = {w for w in words if (w in names or w in place_words or w.replace("'", "")
                                      in names) and w not in NOT_NAMES}
    lower_only = {w for w in ambiguous if in_dictionary(w, webster) or w in CLINICAL}
    return sorted(words - ambiguous), sorted(lower_only)


_HEADER = """# {what}: the safe-list vocabulary of activities/deid/safelist.py
# generated by python tests/data/build_safe_vocab.py (see its docstring): do not edit
# sources: wordfreq 3.1.1 top {n} English words (data CC BY-SA 4.0: Wikipedia, OpenSubtitles,
# Google Books Ngrams, ParaCrawl, Leeds Internet Corpus; this list is shared under CC BY-SA 4.0);
# drug-named-entity-recognition 2.0.9 (MIT; DrugBank open vocabulary CC0, MeSH public domain);
# Webster's 2nd (public domain, via english-words 2.0.2, MIT) for the lower-case test;
# a clinical hand list; minus Faker given/family names (MIT) and GeoNames places (CC BY 4.0)
"""

if __name__ == "__main__":  # pragma: no cover - regenerates the shipped lists
    safe, lower_only = build()
    here = DEID
    (here / "safe_words.txt").write_text(
        _HEADER.format(what="safe in any case", n=TOP_N) + "\n".join(safe) + "\n")
    (here / "safe_lower.txt").write_text(
        _HEADER.format(what="safe in lower case only (also a name or place)", n=TOP_N)
        + "\n".join(lower_only) + "\n")
    print(f"{len(safe)} words safe in any case, {len(lower_only)} in lower case only")
