"""Running a corpus case through the ``hipkit`` command line, and reading back what it wrote.

In-process runs call :func:`hipkit.cli.main` (fast: no interpreter start-up); runs that need limits
(resource bombs) or another privilege (read-only folders when running as root) start a
subprocess with an address-space limit, a wall-clock limit and, where asked, without the
capabilities that let root ignore file permissions.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

TOOLKIT = Path(__file__).resolve().parents[2] / "toolkit"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = {
    "participant_id",
    "group",
    "site",
    "sex",
    "side",
    "limb",
    "affected_side",
    "discharge_reason",
    "source_file",
}
MEMORY_LIMIT = 3 << 30  # bytes of address space for a resource-bomb run
TIME_LIMIT = 30.0  # seconds of wall clock for a resource-bomb run (a refusal takes ~3 s here)
REPORT_TIME_LIMIT = 300.0  # seconds for one `hipkit report` (a kernel start and a template run: ~15 s)
OOC_ARGS = ["--out-of-core", "--partitions", "2", "--scheduler", "serial"]
DEFAULT_OUT = {"out": "out_clean.csv", "quarantine": "out_quarantine.csv", "log": "out_log.json"}
OOC_DEFAULT_OUT = "out_folder"
_NOT_RUN = "could not drop root's file-permission override (CAP_DAC_OVERRIDE) here"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_files(root: Path) -> set[str]:
    """Every file (or link) under ``root``, as paths relative to it (links to folders not followed)."""
    out = set()
    for dirpath, _, names in os.walk(root):
        for n in names:
            out.add(str((Path(dirpath) / n).relative_to(root)))
    return out


@dataclass
class Result:
    """What one command did: exit code, output, time, and the folder it ran in."""

    argv: list[str]
    cwd: Path
    code: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float | None = None
    not_run: str | None = None  # why the command could not be run here at all

    @property
    def stderr_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


def run_in_process(argv: list[str], cwd: Path) -> Result:
    """``hipkit.cli.main(argv)`` in ``cwd``, capturing both streams (argparse's exits included)."""
    from hipkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's own errors
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException as exc:  # noqa: BLE001 - anything escaping main is recorded, not raised
                if isinstance(exc, KeyboardInterrupt):
                    raise
                err.write(f"ESCAPED main(): {type(exc).__name__}: {exc}\n")
                code = -1
    finally:
        os.chdir(old)
    return Result(argv, cwd, code, out.getvalue(), err.getvalue(), time.perf_counter() - started)


# The child program. It sets its own limits before importing anything (no ``preexec_fn``: forking
# with Python code to run between fork and exec is unsafe in a process with threads, and the
# resource runs go two at a time). Without root's file-permission override it re-executes itself
# once: after exec, root keeps only the capabilities of its bounding set.
_CHILD = """\
import os, resource, sys
limit = os.environ.pop("HOSTILE_MEMORY_LIMIT", None)
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
if os.environ.pop("HOSTILE_DROP_DAC", None) and os.geteuid() == 0:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            sys.exit(97)
    os.execv(sys.executable, [sys.executable, *sys.argv])
probe = os.environ.pop("HOSTILE_PROBE_READONLY", None)
if probe:
    try:
        open(os.path.join(probe, ".probe"), "w").close()
    except OSError:
        pass
    else:
        os.unlink(os.path.join(probe, ".probe"))
        sys.exit(98)
from hipkit.cli import main
sys.exit(main(sys.argv[1:]))
"""
_CHILD_PATH: Path | None = None


def _child_path() -> Path:
    global _CHILD_PATH
    if _CHILD_PATH is None:
        import tempfile

        fd, name = tempfile.mkstemp(prefix="hostile-child-", suffix=".py")
        os.write(fd, _CHILD.encode())
        os.close(fd)
        _CHILD_PATH = Path(name)
        atexit.register(_CHILD_PATH.unlink, missing_ok=True)
    return _CHILD_PATH


def run_subprocess(
    argv: list[str], cwd: Path, timeout: float = TIME_LIMIT, limit: bool = True, readonly_probe: Path | None = None
) -> Result:
    """``hipkit`` in a child process, within the address-space and wall-clock limits.

    With ``readonly_probe`` the child runs without root's permission override and first checks
    that the folder really is read-only to it (exit 98 if not: the case cannot be tested here).
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOOLKIT), os.environ.get("PYTHONPATH", "")]))
    for key in ("HOSTILE_MEMORY_LIMIT", "HOSTILE_DROP_DAC", "HOSTILE_PROBE_READONLY"):
        env.pop(key, None)
    if limit:
        env["HOSTILE_MEMORY_LIMIT"] = str(MEMORY_LIMIT)
    if readonly_probe is not None:
        env["HOSTILE_DROP_DAC"] = "1"
        env["HOSTILE_PROBE_READONLY"] = str(readonly_probe)
    out_path, err_path = cwd / ".hostile_stdout", cwd / ".hostile_stderr"
    started = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, str(_child_path()), *argv],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    code = None if killed.is_set() else proc.returncode
    not_run = None
    if code == 97:
        code, not_run = None, _NOT_RUN
    elif code == 98:
        code, not_run = None, "root can write into a read-only folder here even without CAP_DAC_OVERRIDE"
    return Result(argv, cwd, code, stdout, stderr, seconds, usage.ru_maxrss / 1024, not_run)


# -- reading outputs ----------------------------------------------------------------------------


def canon(value, column: str | None = None) -> str:
    """One text form for a cell, whether it came from hipkit's CSV or from its parquet parts.

    Missing -> ""; numbers (outside the text columns) -> ``%.10g``; booleans -> True/False;
    dates -> ``YYYY-MM-DD`` (with the time when there is one); a spreadsheet-neutralised text
    cell loses its leading apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    try:
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return ""
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "True" if value else "False"
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M:%S")
        )
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) and hasattr(value, "__float__"):
        if column in TEXT_COLUMNS:
            return str(value.item() if hasattr(value, "item") else value)
        f = float(value)
        return "" if math.isnan(f) else format(f, ".10g")
    text = str(value)
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_PREFIXES:
        text = text[1:]
    if column in TEXT_COLUMNS:
        return text
    if column and "date" in column and text:
        for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
            with contextlib.suppress(ValueError):
                return canon(datetime.strptime(text, fmt))
        return text
    if text in ("True", "False"):
        return text
    try:
        f = float(text)
    except ValueError:
        return text
    return "" if math.isnan(f) else format(f, ".10g")


def value_matches(actual: str, expected) -> bool:
    """Does the canonical cell ``actual`` hold ``expected`` (None = missing; numbers to 1e-9)?"""
    if expected is None:
        return actual == ""
    if isinstance(expected, bool):
        return actual == str(expected)
    if isinstance(expected, (int, float)):
        try:
            return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)
        except ValueError:
            return False
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(expected)):
        return actual[:10] == expected
    return actual == expected


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV as written (every cell text), header and rows."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return [], []
    header = rows[0]
    return header, [dict(zip(header, r)) for r in rows[1:]]


def read_parquet_rows(paths: list[Path]) -> tuple[list[str], list[dict]]:
    import pandas as pd

    if not paths:
        return [], []
    frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return list(frame.columns), rows


@dataclass
class Run:
    """One case run in one mode: the command's result, the input hashes, the files it left."""

    case: object
    mode: str
    result: Result
    inputs: list[str]
    before: dict[str, str]
    after: dict[str, str | None]
    files_before: set[str]
    files_after: set[str]
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> int | None:
        return self.result.code

    @property
    def dir(self) -> Path:
        return self.result.cwd

    @property
    def new_files(self) -> set[str]:
        return self.files_after - self.files_before

    def describe(self) -> str:
        r = self.result
        tail = r.stderr.strip().splitlines()[-3:] if r.stderr.strip() else []
        shown = " | ".join(tail)[:600]
        code = "killed at the time limit" if r.code is None else f"exit {r.code}"
        return f"[{self.case.name} {self.mode}] {code} after {r.seconds:.1f} s; stderr: {shown or '(empty)'}"

    # outputs --------------------------------------------------------------------------------
    @cached_property
    def clean(self) -> tuple[list[str], list[dict[str, str]]]:
        """Columns and rows of the clean table, every cell in :func:`canon` form."""
        if self.mode == "mem":
            cols, rows = read_csv_rows(self.dir / self.outputs["out"])
        else:
            cols, rows = read_parquet_rows(sorted((self.dir / self.outputs["out"] / "data").glob("*.parquet")))
        return cols, [{c: canon(r.get(c), c) for c in cols} for r in rows]

    @cached_property
    def quarantine(self) -> list[dict[str, str]]:
        path = self.dir / self.outputs["quarantine"]
        _, rows = read_csv_rows(path)
        return rows

    @cached_property
    def log(self) -> dict:
        return json.loads((self.dir / self.outputs["log"]).read_text(encoding="utf-8"))

    def output_files(self) -> list[Path]:
        """Every file the run created."""
        return [self.dir / p for p in sorted(self.new_files)]


def case_argv(case, mode: str) -> tuple[list[str], dict[str, str]]:
    """The ``hipkit clean`` arguments of ``case`` in ``mode``, and where its outputs go."""
    if mode == "mem":
        outs = dict(DEFAULT_OUT, **case.outputs)
        argv = ["clean", *case.inputs, "--out", outs["out"], "--quarantine", outs["quarantine"], "--log", outs["log"]]
    else:
        folder = case.outputs.get("out", OOC_DEFAULT_OUT)
        outs = {"out": folder, "quarantine": f"{folder}/quarantine.csv", "log": f"{folder}/log.json"}
        argv = ["clean", *case.inputs, "--out", folder, *OOC_ARGS]
    return [*argv, "--no-progress", *case.args], outs


def input_paths(case) -> list[str]:
    """The files that are inputs of the run (the case's files and links): none may change."""
    return sorted(
        {*case.files, *(link for link, _, _ in getattr(case, "links", []))}
        - {p for p in case.files if p.endswith(".keep")}
    )


def hashes(root: Path, paths: list[str]) -> dict[str, str | None]:
    out = {}
    for p in paths:
        full = root / p
        out[p] = sha256(full) if full.is_file() else None
    return out


def execute(case, mode: str, root: Path, write_case) -> Run:
    """Write ``case`` under ``root`` and run it in ``mode``."""
    root.mkdir(parents=True, exist_ok=True)
    write_case(case, root)
    argv, outs = case_argv(case, mode)
    ins = input_paths(case)
    before = hashes(root, ins)
    files_before = all_files(root)
    if case.readonly:
        for ro in case.readonly:
            os.chmod(root / ro, 0o555)
        result = run_subprocess(argv, root, limit=False, readonly_probe=root / case.readonly[0])
    elif case.resource:
        result = run_subprocess(argv, root)
    else:
        result = run_in_process(argv, root)
    for ro in case.readonly:
        os.chmod(root / ro, 0o755)
    return Run(case, mode, result, ins, before, hashes(root, ins), files_before, all_files(root), outs)


def execute_report(case, root: Path, write_case) -> Run:
    """Write a report case under ``root`` and run ``hipkit report`` on it."""
    root.mkdir(parents=True, exist_ok=True)
    write_case(case, root)
    argv = ["report", *case.inputs, "--out", case.out, *case.args]
    ins = input_paths(case)
    before, files_before = hashes(root, ins), all_files(root)
    for ro in case.readonly:
        os.chmod(root / ro, 0o555)
    # A subprocess even without limits, so that reports (a Jupyter kernel each) can run two at a time.
    probe = root / case.readonly[0] if case.readonly else None
    result = run_subprocess(argv, root, timeout=REPORT_TIME_LIMIT, limit=False, readonly_probe=probe)
    for ro in case.readonly:
        os.chmod(root / ro, 0o755)
    return Run(
        case, "report", result, ins, before, hashes(root, ins), files_before, all_files(root), {"html": case.out}
    )
