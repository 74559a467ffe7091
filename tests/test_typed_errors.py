"""Every error hipkit raises on purpose is typed (a HipkitError that also subclasses the matching built-in).

So the CLI reports each user error as one line with exit 2, and Python callers can catch either
``hipkit.errors.X`` or the built-in (as lifelines does with ``ConvergenceError(ValueError)``).
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

import hipkit.errors as E

PACKAGE = Path(E.__file__).resolve().parent
#: Built-in exception classes (Exception's subclasses: SystemExit from a __main__ block is not an error).
BUILTIN_ERRORS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, Exception)}

#: Where a built-in error is the protocol, not a report to the user: (file, line text) -> why.
ALLOWED = {
    # pydantic validators raise ValueError, which pydantic collects and hipkit turns into RegistryError /
    # InputError with the file and line (registry/schema.py, cleaning/mapping_file.py)
    "registry/schema.py": "pydantic validator",
    "cleaning/mapping_file.py": "pydantic validator",
    # an internal invariant (a bug, not an input): the CLI reports it as an internal error (exit 3)
    "models/contrasts.py": "internal invariant",
}


def _raises():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(exc, ast.Name) and exc.id in BUILTIN_ERRORS:
                    yield rel, node.lineno, exc.id


def test_no_module_raises_a_bare_built_in_error():
    bad = [f"{rel}:{line}: raise {name}" for rel, line, name in _raises() if rel not in ALLOWED]
    assert not bad, bad


def test_the_allowed_exceptions_are_still_needed():
    assert {rel for rel, _, _ in _raises()} >= set(ALLOWED)


@pytest.mark.parametrize("name", sorted(n for n in E.__all__ if n.endswith("Error")))
def test_every_error_class_is_a_hipkit_error_and_a_built_in(name):
    cls = getattr(E, name)
    assert issubclass(cls, E.HipkitError)
    if cls is not E.HipkitError:
        assert any(b.__module__ == "builtins" and b is not Exception for b in cls.__mro__[1:])
