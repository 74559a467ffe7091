"""What one cell looks like: a name, a phone number, an e-mail address, a national id, a date.

The patterns behind :mod:`hipkit.cleaning.identifiers` (see its docstring for what each kind means);
:func:`classify` gives the evidence of one cell text, cached because exports repeat their texts.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import NamedTuple

from ._given_names import GIVEN_NAMES, fold

__all__ = ["Evidence", "NOTHING", "classify", "date_year", "WEAK", "STRONG", "SURE", "PRIORITY"]

# Evidence levels of one value: a *sure* match (e-mail, a name, an international or North American
# phone number, an id number in a format ids of studies do not take: SSN, NINO, codice fiscale, ...)
# is enough to refuse a participant-id column; a *strong* one (a checksummed number in a common
# grouping such as 3-3-4, which one random number in ten passes) is withheld from carried text;
# a *weak* one (bare digits) counts only for whole columns.
WEAK, STRONG, SURE = 1, 2, 3

#: When one value holds several kinds, the first of this order names it.
PRIORITY = ("email", "national_id", "phone", "date_of_birth", "name")


class Evidence(NamedTuple):
    """The evidence one cell text gives."""

    kind: str | None = None  # the identifier kind found, by PRIORITY
    level: int = 0  # WEAK, STRONG or SURE (0: nothing)
    whole: bool = False  # the whole cell is the identifier
    shape: bool = False  # the whole cell is shaped like a person's name
    given_only: bool = False  # the whole cell is one common given name
    year: int | None = None  # the cell is a full date: its year
    bare_year: int | None = None  # the cell is a bare four-digit year


NOTHING = Evidence()

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_DATE_TEXT = re.compile(
    rf"^(?:\d{{1,2}}(?:st|nd|rd|th)?[ -]?(?:{_MONTHS})\.?,?[ -]?(\d{{4}})"
    rf"|(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? (\d{{4}}))$",
    re.I,
)
_BARE_YEAR = re.compile(r"^(1[89]\d{2}|20\d{2})(?:\.0)?$")
_DOB_IN_TEXT = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate of birth\b|\bbirth\s?date\b|\bborn\b|\bgeb\b\.?|\bgeboren\b|\bn[ée]e? le\b)"
    r"\s*(?:on\s*)?[:\-]?\s*(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\s+[a-z]{3,9}\.?\s+\d{4}|(?:19|20)\d{2})",
    re.I,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_EDGE = " \t.,;:!?()[]{}\"'<>"
_LETTER = re.compile(r"[^\W\d_]")


def date_year(text: str) -> int | None:
    """The year of a full calendar date written in a common way, else None."""
    m = _DATE_YMD.match(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return y if 1 <= mo <= 12 and 1 <= d <= 31 and 1850 <= y <= 2100 else None
    m = _DATE_DMY.match(text)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        if not (1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12):
            return None
        year = int(y)
        if len(y) == 2:
            year += 1900 if year >= 30 else 2000  # a fixed pivot: the same answer on every run
        return year if 1850 <= year <= 2100 else None
    m = _DATE_TEXT.match(text)
    if m:
        return int(m.group(1) or m.group(2))
    return None


# National ids: (pattern, validator, level when it matches): SURE for formats of their own, STRONG
# for groupings that study ids may share (3-3-3, 3-3-4, 6-4), where the check digit is the evidence.
# Validators come from python-stdnum where the number has a check digit, imported when first used.
def _stdnum(module: str):
    def check(text: str) -> bool:
        return bool(importlib.import_module(f"stdnum.{module}").is_valid(text))

    return check


def _nino(text: str) -> bool:
    # HMRC: first letter not D F I Q U V; second not D F I O Q U V; some prefixes never issued.
    t = re.sub(r"\s", "", text).upper()
    return t[:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def _medicare(text: str) -> bool:
    # Australian Medicare card: 10 digits (an 11th, the person's number on the card, may follow);
    # the first is 2-6 and the 9th is sum(digit * weight) mod 10 over the first 8 with weights
    # 1, 3, 7, 9, 1, 3, 7, 9 (Services Australia; not in python-stdnum, hence by hand).
    d = re.sub(r"\D", "", text)
    if len(d) not in (10, 11) or d[0] not in "23456":
        return False
    return sum(int(x) * w for x, w in zip(d[:8], (1, 3, 7, 9, 1, 3, 7, 9))) % 10 == int(d[8])


_B, _E = r"(?<![\w@.+/-])", r"(?![\w@/-]|[.,]\d)"
_ID_PATTERNS = [
    (re.compile(_B + r"\d{3}([- ])\d{2}\1\d{4}" + _E), _stdnum("us.ssn"), SURE),
    (
        re.compile(_B + r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]" + _E, re.I),
        _nino,
        SURE,
    ),
    (
        re.compile(_B + r"[A-Z]{6}[\dLMNP-V]{2}[A-EHLMPR-T][\dLMNP-V]{2}[A-Z][\dLMNP-V]{3}[A-Z]" + _E, re.I),
        _stdnum("it.codicefiscale"),
        SURE,
    ),
    (re.compile(_B + r"\d{8}-?[A-Z]" + _E, re.I), _stdnum("es.dni"), SURE),
    (re.compile(_B + r"[XYZ]-?\d{7}-?[A-Z]" + _E, re.I), _stdnum("es.nie"), SURE),
    (re.compile(_B + r"\d{6}[-+A]\d{3}[A-Y]" + _E), _stdnum("fi.hetu"), SURE),
    (re.compile(_B + r"\d{6}[-+A]\d{4}" + _E), _stdnum("fi.hetu"), STRONG),  # like a date-based study id
    (re.compile(_B + r"(?:\d{2})?\d{6}[-+]\d{4}" + _E), _stdnum("se.personnummer"), STRONG),
    (re.compile(_B + r"\d{3}\.\d{3}\.\d{3}-\d{2}" + _E), _stdnum("br.cpf"), SURE),
    (re.compile(_B + r"\d{3}([ -])\d{3}\1\d{4}" + _E), _stdnum("gb.nhs"), STRONG),
    (re.compile(_B + r"\d{3}([ -])\d{3}\1\d{3}" + _E), lambda t: _stdnum("ca.sin")(t) or _stdnum("au.tfn")(t), STRONG),
    (re.compile(_B + r"\d{3} \d{3} \d{2}" + _E), _stdnum("au.tfn"), STRONG),
    (re.compile(_B + r"[2-6]\d{3} \d{5} \d(?: ?\d)?" + _E), _medicare, STRONG),
    (re.compile(_B + r"[1-478] \d{2} \d{2} (?:\d{2}|2[AB]) \d{3} \d{3} \d{2}" + _E, re.I), _stdnum("fr.nir"), SURE),
]
# Bare digits that pass a check digit: weak (one random number in ten passes a check).
_BARE_ID_CHECKS = {
    8: ("au.tfn",),
    9: ("ca.sin", "au.tfn", "nl.bsn"),
    10: ("gb.nhs", _medicare),
    11: ("pl.pesel", "br.cpf", "no.fodselsnummer", _medicare),
    15: ("fr.nir",),
}
_DIGITS = re.compile(_B + r"\d{8,15}" + _E)


# Every id pattern starts a word with a digit, two letters and a digit (NINO), six letters
# (codice fiscale) or X/Y/Z and a digit (NIE): a cheap test that skips ids such as "P000123".
_ID_START = re.compile(_B + r"(?:\d|[A-Z]{2} ?\d|[A-Z]{6}|[XYZ]-?\d)", re.I)


def _national_id(text: str) -> tuple[int, bool]:
    """(level, whole) of the strongest national id in ``text``."""
    if not _ID_START.search(text):
        return 0, False
    best, whole = 0, False
    for rx, valid, level in _ID_PATTERNS:
        for m in rx.finditer(text):
            if level > best and valid(m.group(0)):
                best, whole = level, m.group(0) == text
    if best:
        return best, whole
    for m in _DIGITS.finditer(text):
        for check in _BARE_ID_CHECKS.get(len(m.group(0)), ()):
            ok = check(m.group(0)) if callable(check) else _stdnum(check)(m.group(0))
            if ok:
                return WEAK, m.group(0) == text
    return 0, False


_PHONE_RUN = re.compile(
    r"(?<![\w@.+/-])(?:\+|00)?\(?\d[\d ().\-/]*\d(?:\s*(?:x|ext\.?|extn\.?|#)\s*\d{1,6})?(?![\w@])", re.I
)
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extn\.?|#)\s*\d{1,6}$", re.I)
# North American numbers: an area code starting with 2-9, set apart from the exchange
# ("555-123-4567", "(555) 123-4567", "555.123.4567"); "240115-0216" is not one.
_NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}$")


def _phone_level(candidate: str) -> int:
    """How much ``candidate`` (digits with separators) looks like a phone number: 0 to SURE."""
    core = _EXTENSION.sub("", candidate.strip())
    if date_year(core) is not None or re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", core):
        return 0
    digits = re.sub(r"\D", "", core)
    n = len(digits)
    if core.startswith("+"):
        return SURE if 8 <= n <= 15 else 0
    if re.match(r"00[1-9]", core) and 8 <= n - 2 <= 15:
        # "0044 7700 900123"; without separators it may be a zero-padded id ("0012345678").
        return SURE if re.search(r"\D", core) else WEAK
    if _NANP.match(core):
        return SURE
    if not 8 <= n <= 15:
        return 0
    seps = len(re.findall(r"\d+", core)) - 1
    if digits[0] == "0":
        if (seps >= 1 and 9 <= n <= 12) or (seps >= 2 and n == 8):
            return STRONG
        return WEAK if seps == 0 and 9 <= n <= 12 else 0
    groups = [len(g) for g in re.findall(r"\d+", core)]
    if seps >= 2 and n <= 13 and max(groups) <= 5:
        return WEAK
    if seps == 0 and n >= 9:
        return WEAK
    return 0


def _phone(text: str) -> tuple[int, bool]:
    """(level, whole) of the most phone-like run of digits in ``text``."""
    best, whole = 0, False
    for m in _PHONE_RUN.finditer(text):
        run = m.group(0).strip()
        level = _phone_level(run)
        if level == 0 and " " in run:
            # Two numbers side by side ("555-123-4567 12/03/2024"): try the words of the run.
            words = run.split()
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + 5) + 1):
                    sub = " ".join(words[i:j])
                    lv = _phone_level(sub)
                    if lv > level:
                        level, run = lv, sub
        if level > best:
            best, whole = level, run == text
    return best, whole


# Person names.
_TITLES = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "hr", "fr", "mme", "mlle",
    "sr", "sra", "srta", "dra", "sig", "sigra", "dott", "dottssa", "dhr", "mevr", "pan", "pani", "rev", "univprof",
    "dipl", "ing", "dipling", "drs", "ir", "mag", "med",
}  # fmt: skip
_EMBEDDED_TITLES = {"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Herr", "Frau", "Mme", "Mlle", "Sra", "Dott", "Dhr"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "md", "phd", "dds", "dvm", "rn", "bsc", "msc", "ba", "ma", "mba", "esq",
             "dmd", "llb", "ddr", "mph", "bed", "med"}  # fmt: skip
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "le", "la", "ten",
              "ter", "bin", "binti", "al", "el", "zu", "y", "e", "het", "d", "des", "lo", "vom"}  # fmt: skip
# Words of group, site, reason and other labels clinics put in exports: a value holding one is not
# shaped like a name ("Hip Strength", "North Clinic", "Moved Away", "Leeds General").
_STOP = set(
    """
    hospital hospitals clinic clinics clinical centre center centres health healthcare medical medicine
    physio physiotherapy physical therapy therapist therapists rehab rehabilitation sport sports university
    college school institute trust foundation practice surgery surgical group groups site sites ward unit
    department dept service services general royal memorial community county city district regional national
    international north south east west northern southern eastern western central upper lower street road
    avenue lane park square place court drive way hill bridge village town st saint mount lake river valley
    green wood field house hall building campus branch office team arm control controls treatment
    intervention exercise exercises strength strengthening hip hips knee knees ankle core gluteal glute
    pain injury injured unrelated completed complete completion moved away lost follow followup withdrew
    withdrawn withdrawal consent discharged discharge relocated relocation pregnancy pregnant illness sick
    other unknown declined refused attend attended did not no show dropped dropout out week weeks visit
    baseline session programme program protocol standard usual care education advice home based online
    telehealth virtual wait waitlist list placebo sham active passive focused focus plus only left right
    side male female yes none phase stage level grade type class cohort study trial pilot new old first
    second third final early late high low medium moderate severe mild syndrome tendinopathy bursitis
    osteoarthritis arthritis sprain strain fracture post pre op reconstruction replacement total partial
    patellofemoral iliotibial band anterior posterior lateral medial functional function walking running
    runner runners athletes athlete adult adults youth junior senior seniors women men womens mens
    mixed combined usual standard waiting delayed immediate stopped ended finished transferred referred
    referral self family doctor gp physician orthopaedic orthopedic surgeon nurse staff clinician
    private public insurance workers compensation the of and for with at in on to from by
    initial assessment review intake entry screening both sides end mid midpoint
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december morning afternoon evening night
    australia canada england scotland wales ireland britain france germany spain italy netherlands
    poland sweden norway denmark finland brazil india texas florida california ontario quebec victoria
    """.split()
)
# Place words that are also common surnames (Wood, Hill, Hall, West, Green, ...): they rule out a
# whole cell ("Victoria Park", a site), but not a name inside free text ("spoke to Harry Wood").
_SURNAME_LIKE = set(
    """
    north south east west street lane park hill bridge mount lake river green wood field house hall
    ward court way place village town lower upper
    """.split()
)
_TEXT_STOP = _STOP - _SURNAME_LIKE
_LOCATIVE = {"in", "at", "from", "near", "into", "via"}
_MOVED = {"moved", "move", "moving", "relocated", "relocating", "transferred", "returned", "went", "back", "going"}


def _cap_token(tok: str) -> bool:
    """A capitalised word of letters, possibly hyphenated or with an apostrophe (O'Brien, Mary-Jane)."""
    parts = re.split(r"[-'\u2019]", tok)
    if not parts or not all(parts):
        return False
    if tok.isalpha() and tok.isupper():
        return len(tok) >= 2  # surnames in capitals: "Jane SMITH"
    for i, p in enumerate(parts):
        if i and p in _PARTICLES:  # "Munster-van der Plas"
            continue
        if not p.isalpha() or not p[0].isupper():
            return False
        rest = p[1:]
        if rest and not (rest.islower() or re.fullmatch(r"[a-z]+[A-Z][a-z]+", rest)):  # McDonald, DeShawn
            return False
    return len(tok) >= 2


def _initial(tok: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]\.?", tok))


def _word(tok: str) -> str:
    # Lower case without folding accents: "Löwer" is a surname, not the word "lower".
    return tok.strip(".,;:").lower()


def _name_shape(text: str) -> tuple[bool, bool, bool]:
    """Whether a whole cell is shaped like a name, is surely one, and is one given name alone."""
    if not any(c.isalpha() for c in text) or any(c.isdigit() for c in text) or len(text) > 60:
        return False, False, False
    letters = [c for c in text if c.isalpha()]
    if all(c.isupper() for c in letters) and len(letters) > 1:
        text = text.title()  # "JANE SMITH", "SMITH, JANE"
    words = text.replace(",", " , ").split()
    if any(_word(w) in _STOP for w in words if w != ","):
        return False, False, False
    if len(words) == 1:
        tok = words[0]
        return False, False, _cap_token(tok) and fold(tok) in GIVEN_NAMES
    if words.count(",") == 1:  # "Smith, Jane", "van Dijk, Anna M."
        i = words.index(",")
        left, right = words[:i], words[i + 1 :]
        ok_left = (
            1 <= len(left) <= 3
            and any(_cap_token(w) for w in left)
            and all(_cap_token(w) or w.lower() in _PARTICLES for w in left)
        )
        ok_right = 1 <= len(right) <= 3 and _cap_token(right[0]) and all(_cap_token(w) or _initial(w) for w in right)
        if ok_left and ok_right:
            return True, _given(right[0]), False
        return False, False, False
    if "," in words:
        return False, False, False
    titled = False
    while words and words[0].lower().replace(".", "").replace("-", "") in _TITLES:
        words, titled = words[1:], True
    while words and (
        words[-1].lower().replace(".", "") in _SUFFIXES or re.fullmatch(r"(?:[A-Za-z]{1,3}\.){2,}", words[-1])
    ):
        words = words[:-1]
    if not words or len(words) > 7:
        return False, False, False
    caps = 0
    for i, w in enumerate(words):
        if _cap_token(w):
            caps += 1
        elif _initial(w) or (i > 0 and w.lower() in _PARTICLES):
            continue
        else:
            return False, False, False
    if not (2 <= caps <= 5 or (titled and 1 <= caps <= 5)):
        return False, False, False
    first = next(w for w in words if not _initial(w))
    return True, titled or _given(first), False


def _given(word: str) -> bool:
    """A common given name, also as the first part of a double name ("Jean-Pierre", "Anna-Lena")."""
    w = fold(word.strip(".,;:"))
    return w in GIVEN_NAMES or re.split(r"[-'\u2019]", w)[0] in GIVEN_NAMES


def _embedded_name(text: str) -> bool:
    """A name inside longer text: a common given name or a title followed by a capitalised word."""
    words = text.split()
    for i in range(len(words) - 1):
        j = i + 1
        while j < len(words) - 1 and j - i <= 3 and words[j] in _PARTICLES:  # "Anna van der Berg"
            j += 1
        w, nxt = words[i].strip("(\"'"), words[j].strip(".,;:!?)\"'")
        if words[i].endswith(",") or not _cap_token(nxt) or _word(nxt) in _TEXT_STOP:
            continue
        title = w.rstrip(".") in _EMBEDDED_TITLES
        given = not w.endswith(",") and _cap_token(w) and _given(w)
        if not (title or given):
            continue
        before = words[i - 1].lower().strip(".,;:") if i > 0 else ""
        before2 = words[i - 2].lower().strip(".,;:") if i > 1 else ""
        if given and (before in _LOCATIVE or (before == "to" and before2 in _MOVED)):
            continue  # "seen in Austin Texas", "moved to Sydney Australia"
        return True
    return False


@lru_cache(maxsize=1 << 16)
def classify(text: str) -> Evidence:
    """The evidence one cell gives (cached: exports repeat the same texts)."""
    t = text.strip()
    if not t:
        return NOTHING
    has_alpha = _LETTER.search(t) is not None
    n_digits = sum(map(str.isdigit, t))
    if not has_alpha and "@" not in t:
        if n_digits < 4:
            return NOTHING
        year = date_year(t)
        if year is not None:
            return Evidence(year=year)
        m = _BARE_YEAR.match(t)
        if m:
            return Evidence(bare_year=int(m.group(1)))
        if n_digits < 8:
            return NOTHING
    elif date_year(t) is not None:  # "12 March 1985"
        return Evidence(year=date_year(t))
    found: dict[str, tuple[int, bool]] = {}
    if "@" in t:
        m = _EMAIL.search(t)
        if m:
            found["email"] = (SURE, m.group(0) == t.strip(_EDGE) or t.lower().startswith("mailto:"))
    if n_digits >= 6:  # a UK National Insurance number has 6 digits, a codice fiscale 7
        level, whole = _national_id(t)
        if level:
            found["national_id"] = (level, whole)
    if n_digits >= 8:
        level, whole = _phone(t)
        if level and "national_id" in found:  # a number that passes an id's check is named an id
            found["national_id"] = (max(level, found["national_id"][0]), found["national_id"][1])
        elif level:
            found["phone"] = (level, whole)
    if has_alpha and n_digits >= 4 and _DOB_IN_TEXT.search(t):
        found["date_of_birth"] = (SURE, False)
    shape = given_only = False
    if has_alpha and (n_digits == 0 or " " in t):
        shape, hit, given_only = _name_shape(t) if n_digits == 0 else (False, False, False)
        if hit:
            found["name"] = (SURE, True)
        elif not shape and " " in t and _embedded_name(t):
            found["name"] = (SURE, False)
    if not found:
        return Evidence(shape=shape, given_only=given_only)
    kind = max(found, key=lambda k: (found[k][0], -PRIORITY.index(k)))
    level, whole = found[kind]
    return Evidence(kind=kind, level=level, whole=whole, shape=shape, given_only=given_only)
