"""hipkit: research and outcomes analysis for hip-abductor strengthening programmes.

The public API, explicitly listed:

- :func:`clean` cleans raw study and clinic exports into one tidy long table
  (:class:`CleanResult` with ``.data``, ``.quarantine``, ``.log``).
- :func:`lmm` fits linear mixed models in lme4 syntax with Satterthwaite inference
  (:class:`LmmResult`); :func:`lrt` compares nested models.
- Classical analyses through pingouin, responders against MCIDs and Table 1 (:mod:`hipkit.stats`).
- :mod:`hipkit.simulate` makes seeded cohorts calibrated to the published studies (always labelled simulated).
- :func:`power_curve` and :func:`n_for_power`: simulation-based power for replications.
- :func:`load_registry` loads the outcome-measure registry (ranges, units, MCIDs with sources).
"""

import importlib as _importlib
import pkgutil as _pkgutil
import sys as _sys

from . import cleaning as _cleaning
from . import simulate
from ._version import __version__
from .cleaning import CleanResult, clean, clean_schema
from .models import (
    LmmResult,
    bootstrap,
    change_model,
    lagged_model,
    lmm,
    lrt,
    mmrm,
    split_within_between,
    within_between,
)
from .power import n_for_power, power_curve
from .registry import Measure, Registry, load_registry
from .stats import (
    change_scores,
    describe,
    mixed_anova,
    paired_change,
    pairwise_tests,
    per_visit_correlation,
    responder_comparison,
    responders,
    rm_corr,
    strength_vs_mdc,
    table1,
    test_retest,
)

__all__ = [
    "__version__",
    "simulate",
    "clean",
    "CleanResult",
    "clean_schema",
    "load_registry",
    "Registry",
    "Measure",
    "lmm",
    "mmrm",
    "bootstrap",
    "lrt",
    "LmmResult",
    "split_within_between",
    "within_between",
    "change_model",
    "lagged_model",
    "rm_corr",
    "per_visit_correlation",
    "mixed_anova",
    "pairwise_tests",
    "change_scores",
    "paired_change",
    "test_retest",
    "responders",
    "responder_comparison",
    "strength_vs_mdc",
    "describe",
    "table1",
    "power_curve",
    "n_for_power",
]

# The cleaning subpackage was ``hipkit.clean`` until issue 12, hidden by the function ``hipkit.clean``
# (``hipkit.clean.outofcore`` was an AttributeError). Its old module paths still import for one release:
# ``from hipkit.clean.outofcore import clean_out_of_core`` finds ``hipkit.cleaning.outofcore``, the same
# module object, without rebinding the function ``hipkit.clean``.
_sys.modules.setdefault(f"{__name__}.clean", _cleaning)
for _module in _pkgutil.iter_modules(_cleaning.__path__):
    _sys.modules.setdefault(
        f"{__name__}.clean.{_module.name}", _importlib.import_module(f"{__name__}.cleaning.{_module.name}")
    )

