"""Labels: how header and value spellings are compared (:func:`normalise_label`), and measures' short names.

:data:`SHORT_LABELS` holds the short display names report tables and sentences use
(``Measure.short_label``); a measure without one is shown by its ``label``.
"""

from __future__ import annotations

import re

__all__ = ["normalise_label", "SHORT_LABELS"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

#: Short display names of registry measures, for report tables and sentences (``Measure.short_label``).
SHORT_LABELS = {
    "pain_vas": "Pain (VAS)",
    "pain_nprs": "Pain (NPRS)",
    "akps": "Knee function (AKPS)",
    "lefs": "Function (LEFS)",
    "hip_abd_strength_n": "Hip-abductor strength",
    "hip_abd_strength_nkg": "Hip-abductor strength per body mass",
}


def normalise_label(text: str) -> str:
    """Lower-case ``text`` and turn every run of punctuation or space into one space.

    Examples
    --------
    >>> normalise_label("  HipAbd_6wk (lb) ")
    'hipabd 6wk lb'
    """
    return _NON_ALNUM.sub(" ", str(text).lower()).strip()
