"""Linear mixed models with lme4's formulation and lmerTest/emmeans-grade inference."""

from .bootstrap import BootstrapResult, bootstrap
from .compare import lrt
from .emmeans import EmmeansResult, emmeans
from .fit import lmm
from .formula import parse_formula
from .predictors import add_change, add_lag, change_model, lagged_model, split_within_between, within_between
from .refit import PreparedDesign
from .results import GLANCE_COLUMNS, TIDY_COLUMNS, LmmResult

__all__ = [
    "lmm",
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
