"""The ``hipkit`` command line.

Commands
--------
``hipkit clean RAW... --out CLEAN.{csv,parquet} --quarantine Q.csv --log LOG.json``
    Clean exports into one tidy long table (exit 0 when it cleaned, even with quarantined rows;
    exit 2 with a one-line reason when a file cannot be read or mapped).
``hipkit fit "FORMULA" --data CLEAN.csv [--ml] --json OUT.json``
    Fit a linear mixed model (lme4 syntax), print its summary, write ``to_dict()`` as JSON.
``hipkit describe --data CLEAN.csv``
    Table 1 by group and visit: n, mean, SD, median, quartiles, missing.
``hipkit measures``
    List the outcome-measure registry (with ``--measures FILE`` for user additions).
``hipkit demo [--out reports] [--only NOTEBOOK...]``
    Clean the bundled exports, execute every notebook in ``notebooks/`` headless and render each
    to a self-contained page in ``reports/`` with ``reports/index.html``; say where they are
    (exit 1 if a notebook failed, after running the others).
``hipkit render NOTEBOOK.py --out X.html``
    Execute one jupytext notebook and render it to one self-contained HTML page.
``hipkit report RAW_OR_CLEAN... --out REPORT.html [--title T] [--schedule 0,2,4,6] [--min-cell 5] [--pdf]``
    A clinic's programme-outcomes report: clean the export if it is raw, run the report template,
    write one self-contained HTML file (and a PDF with ``--pdf``). Exit 2 with a one-line reason for
    input no report can be made of (no outcome columns, too few patients, direct identifiers without
    ``--deidentify``).
"""

from __future__ import annotations

import argparse
import builtins
import json
import re
import sys
import warnings
from pathlib import Path

from ._glossary import DEFAULT_SCHEDULE
from ._version import __version__
from .cleaning import clean
from .cleaning.outofcore import clean_out_of_core
from .errors import HipkitError
from .io import read_clean_table, read_dask_table
from .io.outputs import guard_outputs, write_text
from .io.writers import write_csv
from .models import lmm
from .models.formula import parse_formula
from .models.matrices import formula_variables
from .parallel import dask_client
from .registry import load_registry
from .report import (
    NotebookExecutionError,
    clinic_report,
    execute_notebook,
    notebook_title,
    read_notebook,
    render_html,
)
from .report.demo import run_demo
from .stats import describe, table1
from .stats.sides import one_row_per_visit, repeated_across_sides

__all__ = ["main"]

# Text from data (file and column names, labels, ids in messages) reaches the terminal through
# every print of this module. Control characters (ANSI escape sequences that recolour, move the
# cursor or retitle the window, a carriage return that overwrites a line) and direction overrides
# that reorder what follows are shown as escapes instead: one choke point, this module's print.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_print = builtins.print


def terminal_text(text: str) -> str:
    r"""``text`` with control and direction-override characters shown as escapes.

    Examples
    --------
    >>> terminal_text("group \x1b[31mred")
    'group \\x1b[31mred'
    """
    return _UNSAFE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def print(*values, **kwargs) -> None:  # noqa: A001 - deliberately this module's only way to print
    """Print ``values`` as :func:`terminal_text`."""
    _print(*(terminal_text(str(v)) for v in values), **kwargs)


EXIT_OK = 0
EXIT_INPUT = 2
EXIT_INTERNAL = 3
EXIT_NOTEBOOK_FAILED = 1


def _schedule(text: str) -> list[float]:
    try:
        weeks = [float(x) for x in text.replace(" ", "").split(",") if x != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--schedule must be weeks separated by commas, e.g. 0,2,4,6 (got {text!r})"
        ) from None
    if not weeks:
        raise argparse.ArgumentTypeError("--schedule needs at least one week")
    return weeks


#: Each command with a description: (one-line help, description).
COMMANDS = {
    "clean": (
        "clean raw exports into one tidy long table",
        (
            "Clean study and clinic exports (CSV, Excel, Parquet, REDCap) into one validated tidy long table; "
            "nothing is lost: every record ends clean, quarantined or counted as a duplicate."
        ),
    ),
    "fit": (
        "fit a linear mixed model (lme4 syntax) and write its results as JSON",
        (
            "Fit a linear mixed model by REML (or ML) with Satterthwaite t and F tests, print its summary and "
            "write to_dict() as JSON."
        ),
    ),
    "describe": (
        "Table 1: n, mean, SD, missing per group and visit",
        (
            "Describe a clean table: for each measure, group and visit the number of participants, mean, SD, "
            "median, quartiles and missing values."
        ),
    ),
    "demo": (
        "execute every notebook and render the reports",
        (
            "Clean the bundled exports (into <out>/demo/), execute every notebook in notebooks/ headless and "
            "render each to a self-contained HTML page in <out>/, with an index page."
        ),
    ),
    "render": (
        "execute one notebook and render it to self-contained HTML",
        (
            "Execute a jupytext percent-format notebook headless (working directory: the project root) and render"
            " it to one HTML page with figures embedded and code folded."
        ),
    ),
    "report": (
        "a clinic's programme-outcomes report from an export, as one HTML file",
        (
            "Clean a clinic export (or read a clean table) and write a programme-outcomes report: participant "
            "flow, Table 1, trajectories, change from baseline, responders against the MCID, strength gains "
            "against the MDC, the within-patient strength-pain relation, data quality, methods. No participant "
            "ids or rows are shown; counts below --min-cell are suppressed; visits are weeks."
        ),
    ),
}


def _command(sub, name: str) -> argparse.ArgumentParser:
    """The sub-parser of command ``name``, with its help and description from :data:`COMMANDS`."""
    summary, description = COMMANDS[name]
    return sub.add_parser(name, help=summary, description=description)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hipkit",
        description="Research and outcomes analysis for hip-abductor strengthening programmes.",
    )
    p.add_argument("--version", action="version", version=f"hipkit {__version__}")
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = _command(sub, "clean")
    c.add_argument("raw", nargs="+", metavar="RAW", help="raw export file(s)")
    c.add_argument("--out", help="clean table, .csv or .parquet (default: <first input>_clean.csv here)")
    c.add_argument("--quarantine", help="quarantine table, .csv (default: beside --out)")
    c.add_argument("--log", help="audit log, .json (default: beside --out)")
    c.add_argument(
        "--map", dest="mapping", metavar="MAPPING.yml", help="mapping file for headers, visit labels and coded values"
    )
    c.add_argument(
        "--schedule", type=_schedule, default=list(DEFAULT_SCHEDULE), help="protocol visit weeks (default 0,2,4,6)"
    )
    c.add_argument(
        "--window",
        type=float,
        default=4.0,
        metavar="DAYS",
        help="visit window in days around the scheduled day (default 4)",
    )
    c.add_argument(
        "--deidentify", action="store_true", help="hash participant ids (salted) and shift dates per participant"
    )
    c.add_argument(
        "--salt-file", metavar="FILE", help="salt for --deidentify (kept secret; default $HIPKIT_SALT or random)"
    )
    c.add_argument("--measures", metavar="MEASURES.yml", help="extra measure definitions")
    c.add_argument(
        "--sheet",
        dest="sheets",
        action="append",
        metavar="NAME",
        help="for Excel workbooks: read only this sheet (repeat for several; default: every sheet holding data)",
    )
    c.add_argument("--no-progress", action="store_true", help="no progress bars")
    c.add_argument(
        "--out-of-core",
        action="store_true",
        help="for CSV exports larger than memory: split by participant, clean the parts on Dask; --out is a "
        "folder (data/*.parquet, quarantine.csv, log.json)",
    )
    c.add_argument("--partitions", type=int, default=None, help="participant buckets for --out-of-core")
    c.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="for --out-of-core: a Dask scheduler address, or 'serial' (default: a LocalCluster)",
    )
    c.add_argument("--quiet", action="store_true", help="print nothing but errors")

    f = _command(sub, "fit")
    f.add_argument("formula", help='e.g. "pain_vas ~ visit_week * group + (1 + visit_week | participant_id)"')
    f.add_argument(
        "--data",
        required=True,
        help="clean table (.csv or .parquet), or a glob of parquet/csv files ('registry/*.parquet') read with Dask "
        "without loading the rows",
    )
    f.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler for a --data glob (e.g. tcp://10.0.0.5:8786; default: Dask's local threads)",
    )
    f.add_argument(
        "--per-participant",
        action="store_true",
        help="fit one row per participant and visit (participant-level measures such as pain repeat on "
        "each side's row of a clean table; without this option they are counted once per side, with a warning)",
    )
    f.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    f.add_argument("--json", dest="json_out", metavar="OUT.json", help="write the results here")
    f.add_argument("--quiet", action="store_true", help="do not print the summary")

    ds = _command(sub, "describe")
    ds.add_argument("--data", required=True, help="clean table (.csv or .parquet)")
    ds.add_argument("--measures", nargs="+", help="measures to describe (default: every registry measure present)")
    ds.add_argument("--by", nargs="+", default=["group", "visit_week"], help="grouping columns")
    ds.add_argument("--out", help="write the long table here (.csv)")
    ds.add_argument("--wide", action="store_true", help="print the formatted mean (SD) table instead")

    m = sub.add_parser("measures", help="list the outcome-measure registry")
    m.add_argument("--measures", metavar="MEASURES.yml", help="extra measure definitions")
    m.add_argument("--json", action="store_true", help="print JSON instead of a table")

    d = _command(sub, "demo")
    d.add_argument("--out", default=None, help="output folder (default: reports/ of the project)")
    d.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="run only these notebooks, e.g. 00_quickstart")
    d.add_argument(
        "--notebooks", default=None, metavar="DIR", help="notebook folder (default: notebooks/ of the project)"
    )
    d.add_argument("--data", default=None, help="bundled raw data folder (default: datasets/raw of the project)")
    d.add_argument("--timeout", type=int, default=600, metavar="SECONDS", help="time allowed per cell (default 600)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")

    r = _command(sub, "render")
    r.add_argument("notebook", metavar="NOTEBOOK.py", help="jupytext percent-format notebook (or .ipynb)")
    r.add_argument("--out", default=None, metavar="X.html", help="the page to write (default: <notebook>.html here)")
    r.add_argument("--results", default=None, metavar="R.json", help="where record() values go (default: beside --out)")
    r.add_argument("--timeout", type=int, default=600, metavar="SECONDS", help="time allowed per cell (default 600)")

    rp = _command(sub, "report")
    rp.add_argument("inputs", nargs="+", metavar="RAW_OR_CLEAN", help="raw export(s) or clean table(s)")
    rp.add_argument("--out", required=True, metavar="REPORT.html", help="the report to write")
    rp.add_argument("--title", default="Programme outcomes report", help="report title")
    rp.add_argument(
        "--schedule",
        type=_schedule,
        default=list(DEFAULT_SCHEDULE),
        metavar="W,W,...",
        help="protocol visit weeks (default 0,2,4,6), as in hipkit clean",
    )
    # The option's old name, accepted for one release with a warning (one spelling in every command).
    rp.add_argument("--programme-weeks", dest="programme_weeks", type=_schedule, default=None, help=argparse.SUPPRESS)
    rp.add_argument("--min-cell", type=int, default=5, metavar="N", help="suppress counts of patients below N (5)")
    rp.add_argument("--pdf", action="store_true", help="also write REPORT.pdf through headless Chromium")
    rp.add_argument("--deidentify", action="store_true", help="accept inputs with direct identifiers (ids hashed)")
    rp.add_argument("--salt-file", default=None, help="salt for --deidentify (default: random)")
    rp.add_argument("--notebook", default=None, metavar="X.ipynb", help="also write the executed notebook")
    rp.add_argument("--timeout", type=int, default=600, metavar="SECONDS", help="time allowed per cell (default 600)")
    return p


def _cmd_clean_out_of_core(args: argparse.Namespace) -> int:
    if not args.out or Path(args.out).suffix:
        raise HipkitError("--out-of-core writes a folder: give --out FOLDER (no file extension)")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise HipkitError(f"--out {args.out}: --out-of-core writes a folder, and this is a file")
    for raw in args.raw:
        if Path(args.out).resolve() == Path(raw).resolve():
            raise HipkitError(f"refusing to write {args.out}: it is an input file (raw files are never overwritten)")
    res = clean_out_of_core(
        args.raw,
        args.out,
        partitions=args.partitions,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        salt=Path(args.salt_file) if args.salt_file else None,
        mapping=args.mapping,
        schedule=args.schedule,
        window_days=args.window,
        deidentify=args.deidentify,
        measures=args.measures,
        sheets=args.sheets,
    )
    rows = res.log["rows"]
    if not args.quiet:
        print("hipkit clean (out of core)")
        print(
            f"  records in: {rows['in']:,}  clean: {rows['clean']:,}  quarantined: {rows['quarantined']:,}  "
            f"duplicates removed: {rows['duplicates_removed']:,}  participants: {rows['participants']:,}"
        )
        print(
            f"  wrote {res.data_path}/ ({len(list(res.data_path.glob('part-*.parquet')))} parts), "
            f"{res.out_dir / 'quarantine.csv'}, {res.out_dir / 'log.json'}"
        )
    return EXIT_OK


def _cmd_clean(args: argparse.Namespace) -> int:
    if args.out_of_core:
        return _cmd_clean_out_of_core(args)
    first = Path(args.raw[0])
    out = Path(args.out) if args.out else Path(f"{first.stem}_clean.csv")
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    stem = stem[: -len("_clean")] if stem.endswith("_clean") else stem
    quarantine = Path(args.quarantine) if args.quarantine else out.with_name(f"{stem}_quarantine.csv")
    log = Path(args.log) if args.log else out.with_name(f"{stem}_log.json")
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise HipkitError(f"--out {out}: must end in .csv or .parquet")
    if quarantine.suffix.lower() != ".csv":
        raise HipkitError(f"--quarantine {quarantine}: must end in .csv")
    if log.suffix.lower() != ".json":
        raise HipkitError(f"--log {log}: must end in .json")
    guard_outputs([out, quarantine, log], args.raw)
    progress = None if not args.no_progress else False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the summary below reports the same facts
        result = clean(
            args.raw,
            mapping=args.mapping,
            schedule=args.schedule,
            window_days=args.window,
            deidentify=args.deidentify,
            salt=Path(args.salt_file) if args.salt_file else None,
            measures=args.measures,
            progress=progress,
            sheets=args.sheets,
        )
    result.write(out, quarantine, log, inputs=args.raw)
    if not args.quiet:
        print(result.summary())
        print(f"  wrote {out}, {quarantine}, {log}")
    return EXIT_OK


def _cmd_fit(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    glob_pattern = any(ch in args.data for ch in "*?[")
    if args.json_out:
        import glob

        guard_outputs([args.json_out], glob.glob(args.data) if glob_pattern else [args.data])
    if args.scheduler and not glob_pattern:
        raise HipkitError("--scheduler goes with a --data glob such as 'registry/*.parquet'")
    data = read_dask_table(args.data) if glob_pattern else read_clean_table(args.data)
    data = _sides_checked(data, args.formula, args.per_participant, glob_pattern)
    if args.scheduler:
        context = dask_client(args.scheduler)
    else:
        context = nullcontext()
    with context, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the summary repeats every warning
        fit = lmm(args.formula, data, reml=not args.ml)
    if not args.quiet:
        print(fit.summary())
    if args.json_out:
        write_text(args.json_out, json.dumps(fit.to_dict(), indent=2) + "\n")
        if not args.quiet:
            print(f"\nwrote {args.json_out}")
    return EXIT_OK


def _sides_checked(data, formula: str, per_participant: bool, out_of_core: bool):
    """Warn when the formula's participant-level measures repeat on each side's row (or collapse them)."""
    if out_of_core:
        if per_participant:
            raise HipkitError("--per-participant needs the table in memory: give one file, not a glob")
        return data
    used = formula_variables(data, parse_formula(formula))  # the columns the model reads, as lmm finds them
    if per_participant:
        out = one_row_per_visit(data, used)
        print(f"hipkit fit: one row per participant and visit: {len(out):,} rows (from {len(data):,})", file=sys.stderr)
        return out
    for measure, n in repeated_across_sides(data, used).items():
        print(
            f"hipkit: warning: {measure} is measured once per participant and visit, but {n:,} of "
            f"{int(data[measure].notna().sum()):,} rows repeat a value of another row of the same visit (a row "
            "per side), so those scores are counted more than once and the standard errors are too small; "
            "rerun with --per-participant",
            file=sys.stderr,
        )
    return data


def _cmd_describe(args: argparse.Namespace) -> int:
    guard_outputs([args.out], [args.data])
    data = read_clean_table(args.data)
    by = [b for b in args.by if b in data.columns]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = (table1 if args.wide else describe)(data, measures=args.measures, by=by)
    print(table.to_string(index=False))
    if args.out:
        write_csv(table, args.out)
    return EXIT_OK


def _cmd_measures(args: argparse.Namespace) -> int:
    reg = load_registry(args.measures) if args.measures else load_registry()
    frame = reg.to_frame()
    if args.json:
        print(json.dumps(frame.to_dict(orient="records"), indent=2))
    else:
        cols = ["name", "kind", "unit", "low", "high", "direction", "mcid", "mdc"]
        print(frame[cols].to_string(index=False, na_rep=""))
    return EXIT_OK


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _cmd_demo(args: argparse.Namespace) -> int:
    progress = False if args.no_progress else None
    runs = run_demo(args.out, args.only, args.notebooks, args.data, args.timeout, progress, echo=print)
    return EXIT_NOTEBOOK_FAILED if any(not r.ok for r in runs) else EXIT_OK


def _cmd_render(args: argparse.Namespace) -> int:
    source = Path(args.notebook)
    out = Path(args.out) if args.out else Path(f"{source.stem}.html")
    results = Path(args.results) if args.results else out.with_name(f"{out.stem}.results.json")
    title, _ = notebook_title(read_notebook(source), source.stem)
    try:
        nb = execute_notebook(source, timeout=args.timeout, results_path=results)
    except NotebookExecutionError as exc:
        if exc.nb is not None:
            render_html(exc.nb, out, title, base_dir=source.parent)
        print(f"hipkit: error: {exc} (partial page: {_shown(out)})", file=sys.stderr)
        return EXIT_NOTEBOOK_FAILED
    render_html(nb, out, title, base_dir=source.parent)
    print(f"wrote {_shown(out)} and {_shown(results)}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in {".html", ".htm"}:
        raise HipkitError(f"--out must be an .html file (got {out.name})")
    schedule = args.schedule
    if args.programme_weeks is not None:
        print("hipkit: warning: --programme-weeks is now called --schedule (the old name stops working in the next "
              "release)", file=sys.stderr)  # fmt: skip
        schedule = args.programme_weeks
    print(f"hipkit report: {', '.join(Path(i).name for i in args.inputs)}")
    run = clinic_report(
        args.inputs,
        out,
        title=args.title,
        schedule=schedule,
        min_cell=args.min_cell,
        deidentify=args.deidentify,
        salt_file=args.salt_file,
        pdf=out.with_suffix(".pdf") if args.pdf else None,
        notebook=args.notebook,
        timeout=args.timeout,
    )
    for note in run.notes:
        print(f"  not estimated: {note}")
    print(f"  {run.n_patients:,} patients; {run.seconds:.1f} s")
    for path in (run.html, run.pdf, run.notebook):
        if path is not None:
            print(f"  wrote {_shown(path)}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    handler = {
        "clean": _cmd_clean,
        "fit": _cmd_fit,
        "describe": _cmd_describe,
        "measures": _cmd_measures,
        "demo": _cmd_demo,
        "render": _cmd_render,
        "report": _cmd_report,
    }[args.command]
    try:
        return handler(args)
    except HipkitError as exc:
        if args.debug:
            raise
        print(f"hipkit: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("hipkit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never show a traceback to a user without --debug
        if args.debug:
            raise
        print(
            f"hipkit: internal error: {type(exc).__name__}: {exc}; re-run with --debug and report it", file=sys.stderr
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
