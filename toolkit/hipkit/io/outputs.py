"""Writing outputs safely: never over an input, always atomically.

Every file hipkit writes goes through :func:`atomic_path` (or :func:`write_text`, :func:`write_bytes`):
the content is written to a temporary file in the destination's folder and renamed over the
destination only when it is complete, so a run that fails (a full disk, a read-only folder, an error
half-way) leaves no half-written file and never damages the file that was there before.
:func:`guard_outputs` refuses, before anything is written, an output that is one of the inputs (the
same path, or the same file under another name or through a link): raw files are never modified.

Python's ``tempfile`` and ``os.replace`` give the atomic rename; only the bookkeeping is written here
(no library offers "refuse an output that is an input").
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import OutputError

__all__ = ["atomic_path", "guard_outputs", "write_text", "write_bytes"]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except OSError:
        pass
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def guard_outputs(outputs: Iterable[str | os.PathLike | None], inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse outputs that would overwrite an input, or that name one file twice.

    Parameters
    ----------
    outputs : iterable of path or None
        The files a command is about to write (None entries are skipped).
    inputs : iterable of path
        The files it reads.

    Raises
    ------
    OutputError
        An output is an input (same path, or the same file through a link), an existing folder, or
        two outputs are the same file; the message names them.

    Examples
    --------
    >>> guard_outputs(["clean.csv"], ["raw.csv"])
    >>> guard_outputs(["raw.csv"], ["raw.csv"])
    Traceback (most recent call last):
    ...
    hipkit.errors.OutputError: refusing to write raw.csv: it is an input file (raw files are never overwritten)
    """
    ins = [Path(p) for p in inputs]
    outs = [Path(p) for p in outputs if p is not None]
    for o in outs:
        if o.is_dir():
            raise OutputError(f"cannot write {o}: it is a folder; give a file name")
    for o in outs:
        for i in ins:
            if _same_file(o, i):
                raise OutputError(f"refusing to write {o}: it is an input file (raw files are never overwritten)")
    for k, a in enumerate(outs):
        for b in outs[k + 1 :]:
            if _same_file(a, b):
                raise OutputError(f"two outputs are the same file ({a} and {b}); give each its own name")


def _oserror(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"cannot write {path}: {reason}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Give a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    For writers that take a path (``DataFrame.to_parquet``, Chromium's ``--print-to-pdf``). The
    folder is created when missing. If the block raises, the temporary file is removed and ``path``
    is left as it was.

    Raises
    ------
    OutputError
        The folder cannot be created or written (read-only, no space): one line naming the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "x.txt").read_text()
    'done'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _oserror(path, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _oserror(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
