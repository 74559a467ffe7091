"""hipkit: research and outcomes analysis for hip-abductor strengthening programmes.

The public API, explicitly listed:

- :func:`clean` cleans raw study and clinic exports into one tidy long table
  (:class:`CleanResult` with ``.data``, ``.quarantine``, ``.log``).
- :func:`lmm` fits linear mixed models in lme4 syntax with Satterthwaite inference
  (:class:`LmmResult`); :func:`lrt` compares nested models.
- :func:`load_registry` loads the outcome-measure registry (ranges, units, MCIDs with sources).
"""

__version__ = "0.1.0"

from .clean import CleanResult, clean, clean_schema
from .models import (
    LmmResult,
    change_model,
    lagged_model,
    lmm,
    lrt,
    split_within_between,
    within_between,
)
from .registry import Measure, Registry, load_registry

__all__ = [
    "__version__",
    "clean",
    "CleanResult",
    "clean_schema",
    "load_registry",
    "Registry",
    "Measure",
    "lmm",
    "lrt",
    "LmmResult",
    "split_within_between",
    "within_between",
    "change_model",
    "lagged_model",
]
