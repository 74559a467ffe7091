"""How header and value spellings are compared: :func:`normalise_label`."""

from __future__ import annotations

import re

__all__ = ["normalise_label"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_label(text: str) -> str:
    """Lower-case ``text`` and turn every run of punctuation or space into one space.

    Examples
    --------
    >>> normalise_label("  HipAbd_6wk (lb) ")
    'hipabd 6wk lb'
    """
    return _NON_ALNUM.sub(" ", str(text).lower()).strip()
