"""Capitalized words that follow a name cue without being a name.

"Seen by Physical Therapy", "discussed with Cardiology", "daughter At
bedside", "Caller: Pharmacy", "Report given to Night shift": the context rules
of ``names`` take the capitalized words after a cue as a name unless they
are here. The list holds function words, clinical services and roles,
credentials, documentation words, verbs that open sentences ("Ambulates 150
ft") and a few organisms written ``E. Coli`` style; it is
deliberately about words written capitalized, not acronyms (a word in
capitals counts as a name only when the dictionary knows it), and not names
(``Will``, ``Hope``, ``Grace`` are left to the dictionary and the cues).

It also says, for the rules that take a lower-case or unknown word for a place or a name
(``hoodforms``, ``civicforms``, ``motionforms``, ``townshapes``), which word is on none of
the word lists: ``other_word``, written once so that a list added to it reaches them all.
"""

from __future__ import annotations

from medpipe.activities.deid.safelist import english, vocabulary

_TEXT = """
a an and or but if of in on at to for with by from as into onto over under via per about
is was were be been being are am has have had do does did will would can could may might
shall should must not no yes all any some this that these those it its he she they we you
i his her their our your my me him them us who whom which what when where why how here
there then than also only just very well now today tomorrow yesterday tonight morning
afternoon evening night noon overnight day days week weeks month months year years
home hospital clinic office room bed bedside floor unit ward service services team staff
nurse nurses nursing doctor doctors physician
physicians provider providers patient patients pt pts family friend friends present aware
updated update called calling call calls visit visited visiting visits states stated state
reports reported report says said agrees agreed agree declined declines notified informed
asked spoke speaks discussed discuss plan plans phone telephone message messages voicemail
vm none unknown na not never always again still already
physical occupational speech respiratory social case management therapy therapist therapists
cardiology cardiac neurology neuro oncology surgery surgical
orthopedics orthopaedics ortho gi ent urology nephrology renal dermatology psychiatry
psych psychology hospice palliative nutrition nutritionist dietary dietitian dietician
pharmacy pharmacist radiology pathology pulmonary pulmonology infectious disease
diseases endocrinology endo rheumatology rheum hematology heme ophthalmology optometry
podiatry wound chaplain chaplaincy interpreter interpreters emergency triage primary
urgent rapid response anesthesia anesthesiology medicine internal general health hh lab labs
laboratory imaging security admissions admitting billing insurance medicare medicaid
obstetrics gynecology gyn pediatrics peds geriatrics gastroenterology hepatology transplant
vascular trauma critical care intensivist hospitalist hospitalists resident residents
intern interns fellow fellows attending attendings student students charge night day shift
evening administration front desk registration scheduling records medical
clinical clinician clinicians manager supervisor coordinator navigator educator educators
aide aides tech techs technician technicians assistant assistants volunteer volunteers
home health agency facility facilities rehab rehabilitation nursing
mother father mom dad son daughter wife husband brother sister partner spouse caregiver
aunt uncle cousin niece nephew grandson granddaughter grandmother grandfather children
child kids parents parent guardian visitor visitors neighbor neighbour
education precautions precaution contact isolation droplet airborne standard history
hx assessment plan impression diagnosis diagnoses dx problem problems exam examination
physical review systems ros hpi pmh psh meds medications medication allergies allergy
vitals vital signs labs results result imaging findings summary discharge admission
instructions follow followup up return returned refer referral referred consult consults
consultation note notes progress procedure procedures order orders signed reviewed
regarding re subject date time location name address phone email
mg ml tablet tablets tab tabs capsule capsules dose doses daily bid tid qid prn
aspirin tylenol lasix insulin heparin coumadin warfarin metformin lisinopril
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thurs fri sat sun
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
north south east west left right upper lower
md rn np phd dds dmd lpn cna msw lcsw pharmd fnp aprn crna dpt cnm facp facs mbbs frcp bsn msn
dnp pac
ambulates ambulating shares denies reports tolerates tolerating presents presented complains
endorses admits takes uses lives walks returns remains continues appears feels notes sleeps
eats drinks smokes requires needs agrees declines refuses understands verbalizes transferred
discharged admitted seen scheduled tolerated
coli aureus difficile diff pneumoniae epidermidis faecalis faecium pylori influenzae cloacae
aeruginosa mirabilis marcescens albicans glabrata jirovecii vulgaris oxytoca baumannii
maltophilia fragilis perfringens trachomatis gonorrhoeae pallidum burgdorferi pyogenes
agalactiae viridans lugdunensis acnes
poa hcp hcpoa mpoa dpoa nok sdm
""".split()

#: Folded lower-case words that are never taken as a name after a cue.
NOT_NAMES: frozenset[str] = frozenset(_TEXT)

#: Spanish and Portuguese nouns (folded) that open the names of days, places and
#: institutions before a particle (``Dia de los Muertos``, ``Casa de Salud``, ``Calle de la
#: Paz``, ``Semana de la Patria``) and no person's: the particle rules take a capitalized
#: word that is no English word before ``de``/``del``/``y`` for a given name, and these are
#: no English words.
NOT_GIVEN_BEFORE_PARTICLE: frozenset[str] = frozenset("""
dia noche semana fiesta feliz casa calle avenida rua plaza praca ciudad pueblo barrio colonia
camino carretera paseo iglesia capilla virgen nuestra hospital clinica centro colegio escuela
universidad museo parque banco hotel restaurante mercado instituto fundacion asociacion
""".split())

#: Words typed in messages that no word list holds (``pls``, ``til``): no name, no place.
CHAT: frozenset[str] = frozenset("pls plz thx ty til till tmrw tmw idk btw asap lol ur u im "
                                 "ive dont cant wont its thats".split())


def other_word(word: str) -> bool:
    """Whether a word is on no word list: no English word, note word (``NOT_NAMES``), safe
    word (the shipped vocabulary) or chat word (``CHAT``), so a name's or a place's.

    The rules that read an unknown word as a town or a neighbourhood (``hoodforms``,
    ``civicforms``, ``motionforms``, ``townshapes``) share this one test: a list added here
    keeps its words out of all of them at once.

    Args:
        word: a word as written; compared in lower case, apostrophes and hyphens at its
            ends stripped (``Fishtown's`` is read as ``fishtown's``, ``-ville`` as ``ville``).
    """
    w = word.lower().strip("'-")
    return bool(w) and w not in english() and w not in NOT_NAMES and w not in CHAT \
        and w not in vocabulary()[0] and w not in vocabulary()[1]
