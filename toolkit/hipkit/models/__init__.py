"""Linear mixed models with lme4's formulation and lmerTest/emmeans-grade inference.

No name of this package shadows one of its modules: the functions :func:`emmeans` and
:func:`bootstrap` live in :mod:`hipkit.models.marginal_means` and
:mod:`hipkit.models.parametric_bootstrap`. The old module paths ``hipkit.models.emmeans`` and
``hipkit.models.bootstrap`` still import (``from hipkit.models.emmeans import EmmeansResult``) for
one release; as attributes of this package they are the functions.
"""

import sys as _sys

from . import marginal_means as _marginal_means
from . import parametric_bootstrap as _parametric_bootstrap
from .compare import lrt
from .fit import lmm
from .formula import parse_formula
from .marginal_means import EmmeansResult, emmeans
from .mmrm_fit import mmrm
from .parametric_bootstrap import BootstrapResult, bootstrap
from .predictors import add_change, add_lag, change_model, lagged_model, split_within_between, within_between
from .refit import PreparedDesign
from .results import GLANCE_COLUMNS, TIDY_COLUMNS, LmmResult

__all__ = [
    "lmm",
    "mmrm",
    "lrt",
    "bootstrap",
    "BootstrapResult",
    "PreparedDesign",
    "emmeans",
    "EmmeansResult",
    "LmmResult",
    "parse_formula",
    "TIDY_COLUMNS",
    "GLANCE_COLUMNS",
    "split_within_between",
    "add_change",
    "add_lag",
    "within_between",
    "change_model",
    "lagged_model",
]

# Deprecated module paths (issue 12): ``import hipkit.models.emmeans`` finds the renamed module here,
# without rebinding the attribute ``hipkit.models.emmeans`` (the function).
_sys.modules.setdefault(f"{__name__}.emmeans", _marginal_means)
_sys.modules.setdefault(f"{__name__}.bootstrap", _parametric_bootstrap)
