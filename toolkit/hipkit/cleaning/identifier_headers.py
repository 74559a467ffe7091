"""Identifier headers: whether a column's header names a direct identifier, and which kind.

The registry's ``identifiers:`` list holds the spellings (read through :func:`is_identifier_header`);
:func:`withheld` is what the quarantine shows instead of a value that looks like an identifier.
Content (the values of a column) is read by :mod:`hipkit.cleaning.identifiers`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..registry import Registry, load_registry, normalise_label
from ._given_names import fold

__all__ = ["KINDS", "is_identifier_header", "withheld"]

#: The kinds of direct identifier told apart (``address`` is recognised by header only).
KINDS = ("name", "phone", "email", "date_of_birth", "national_id", "address")
_ONE = {
    "name": "person name",
    "phone": "phone number",
    "email": "e-mail address",
    "date_of_birth": "date of birth",
    "national_id": "national id number",
    "address": "address",
}
_MANY = {
    "name": "person names",
    "phone": "phone numbers",
    "email": "e-mail addresses",
    "date_of_birth": "dates of birth",
    "national_id": "national id numbers",
    "address": "addresses",
}



# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------
_BRACKETS = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_NUMBER_WORDS = {"no", "nr", "num", "number", "nbr", "numero", "nummer", "n"}
# Identifier spellings too generic to be looked for inside a longer header ("Site name",
# "Contact lens"): these must be the whole header (after brackets and "no"/"number").
_EXACT_ONLY = {
    "name", "contact", "cell", "tel", "mobile", "zip", "nom", "nome", "naam", "nombre", "client", "parent", "mother",
    "father", "spouse", "carer", "caregiver", "initials", "mail", "portable", "handy", "plz", "sin", "cpr", "nie",
    "dni", "nir", "bsn", "cpf", "tfn", "nok",
}  # fmt: skip
_DATEISH_HEADER = re.compile(
    r"\b(date|dt|year|yr|yob|born|birth|birthday|jahr|jahrgang|geburt\w*|annee|ano|anno|jaar|rok|ar|datum|fecha|data)\b"
)
_HEADER_KINDS = (
    ("date_of_birth", ("birth", "dob", "d o b", "born", "geburt", "naissance", "nacimiento", "nascita", "yob")),
    ("email", ("mail", "courriel", "correo")),
    ("phone", ("phone", "tel", "mobile", "cell", "contact", "fax", "handy", "telefon", "telefono", "movil")),
    ("address", ("address", "street", "postcode", "postal", "zip", "adresse", "direccion", "indirizzo", "adres")),
    (
        "national_id",
        (
            "nhs",
            "ssn",
            "sin",
            "social",
            "insurance",
            "passport",
            "national",
            "mrn",
            "medical record",
            "health card",
            "medicare",
            "nino",
            "tfn",
            "tax",
            "licence",
            "license",
            "personnummer",
            "cpr",
            "pesel",
            "bsn",
            "cpf",
            "nir",
            "dni",
            "nie",
            "codice fiscale",
            "hospital number",
            "id card",
        ),
    ),
)


def _header_forms(header: str) -> list[str]:
    """The header normalised, without bracketed hints, and without a trailing "no"/"number"."""
    full = normalise_label(fold(header))
    bare = normalise_label(_BRACKETS.sub(" ", fold(header)))
    forms = [full, bare]
    tokens = bare.split()
    while len(tokens) > 1 and tokens[-1] in _NUMBER_WORDS:
        tokens = tokens[:-1]
        forms.append(" ".join(tokens))
    return list(dict.fromkeys(f for f in forms if f))


def is_identifier_header(header: str, registry: Registry | None = None) -> bool:
    """Whether a header names a direct identifier (name, phone, date of birth, national id, ...).

    The header is compared with the registry's ``identifiers:`` spellings after lower-casing and
    turning punctuation into spaces, also without a bracketed hint (``"Date of birth (dd/mm/yyyy)"``)
    and without a trailing "no"/"number" (``"Contact no"``); a spelling of two or more words, or a
    specific one (``phone``, ``email``, ``dob``, ``surname``, ...), also counts inside a longer header
    (``"Patient first name"``, ``"Mobile phone"``). Generic words (``name``, ``contact``, ``tel``,
    ...) count only as the whole header, so ``"Site name"`` is not an identifier.

    Parameters
    ----------
    header : str
    registry : Registry, optional
        Default: the built-in registry.

    Returns
    -------
    bool

    Examples
    --------
    >>> [is_identifier_header(h) for h in ["Pt. Name", "Date of birth (dd/mm/yyyy)", "Mobile phone",
    ...                                     "NHS no", "Site name", "Pain wk2"]]
    [True, True, True, True, False, False]
    """
    reg = registry if registry is not None else load_registry()
    return _header_check(str(header), reg.identifiers)


@lru_cache(maxsize=4096)
def _header_check(header: str, identifiers: tuple[str, ...]) -> bool:
    exact = set(identifiers) | {i.replace(" ", "") for i in identifiers}
    forms = _header_forms(header)
    if any(f in exact or f.replace(" ", "") in exact for f in forms):
        return True
    entries = [e for e in dict.fromkeys(identifiers) if e and e not in _EXACT_ONLY]
    return any(f" {e} " in f" {form} " for form in forms for e in entries)


def _header_kind(header: str) -> str:
    text = f" {normalise_label(fold(header))} "
    for kind, words in _HEADER_KINDS:
        if any(f" {w}" in text for w in words):
            return kind
    return "name"


def withheld(kind: str) -> str:
    """What the quarantine shows instead of a value that looks like an identifier.

    Examples
    --------
    >>> withheld("phone")
    '[withheld: phone number]'
    """
    return f"[withheld: {_ONE.get(kind, 'identifier')}]"
