"""pytest parameters over the corpus (test ids are case names, with the mode where it matters)."""

from __future__ import annotations

import make_corpus
import pytest


def case_params(select=lambda c: True, modes: bool = True):
    """pytest params over the corpus: ``case-mode`` ids (or case ids with ``modes=False``)."""
    params = []
    for c in make_corpus.CASES:
        if not select(c):
            continue
        if modes:
            params += [pytest.param(c.name, m, id=f"{c.name}-{m}") for m in c.modes]
        else:
            params.append(pytest.param(c.name, id=c.name))
    return params
