"""Exception and warning classes of hipkit.

Every message says what went wrong, where (file, column, line), and what to do.
"""

__all__ = [
    "HipkitError",
    "InputError",
    "UnreadableFileError",
    "UnmappableFileError",
    "OutputError",
    "ArgumentError",
    "RegistryError",
    "UnknownMeasureError",
    "ModelSpecError",
    "NotSupportedError",
    "IdentifiabilityError",
    "ConvergenceError",
    "UsageError",
    "DataQualityWarning",
    "ConvergenceWarning",
    "SingularFitWarning",
]


class HipkitError(Exception):
    """Base class of every error hipkit raises on purpose."""


class InputError(HipkitError, ValueError):
    """The input given to hipkit cannot be used as it is."""


class UnreadableFileError(InputError):
    """A file cannot be read: missing, empty, of an unknown format, or corrupt."""


class UnmappableFileError(InputError):
    """A file was read but hipkit cannot tell which column holds what.

    The message names the columns it could not map and suggests a ``--map`` file.
    """


class OutputError(HipkitError, OSError):
    """An output cannot be written: it would overwrite an input, or its folder is not writable."""


class ArgumentError(InputError, TypeError):
    """An argument of a hipkit function has the wrong type or value; the message names it."""


class RegistryError(InputError):
    """A measure registry (built in or user supplied) is malformed."""


class UnknownMeasureError(HipkitError, KeyError):
    """A measure name that the registry does not define (a ``KeyError``, as a mapping's lookup is)."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return str(self.args[0]) if self.args else ""


class ModelSpecError(InputError):
    """A model formula or its data cannot be turned into a model."""


class NotSupportedError(HipkitError, NotImplementedError):
    """A valid request that hipkit does not support yet; the message names an alternative."""


class IdentifiabilityError(HipkitError, ValueError):
    """The data cannot identify the model that was asked for."""


class DataQualityWarning(UserWarning):
    """Something in the data deserves a look (quarantined values, unmapped columns, ...)."""


class ConvergenceWarning(UserWarning):
    """The optimiser did not converge."""


class SingularFitWarning(UserWarning):
    """A variance component is at its boundary or a correlation is at +/-1."""


class ConvergenceError(HipkitError, ArithmeticError):
    """The optimiser did not converge and the caller asked for an error (``check_convergence="error"``)."""


class UsageError(HipkitError, RuntimeError):
    """hipkit's objects were used in an order they do not support (a count shown before the ledger resolved)."""

