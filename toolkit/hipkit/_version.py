"""The version of hipkit, in one place: modules import it from here, never from the package root."""

__all__ = ["__version__"]

__version__ = "0.1.0"
