"""Cleaning exports larger than memory: split by participant, clean each part on Dask, combine.

Everything the cleaner decides about a record depends on its file's header, on a few decisions
taken over the whole file, and on the other records of the same participant (duplicates,
participant-level values, visit windows, change from baseline), never on other participants. So an
export is streamed once: each record goes to one of ``partitions`` buckets by a hash of its
normalised participant id (with its original line), and the file-wide decisions are taken while
streaming, from the same functions the in-memory cleaner uses:

- the encoding, delimiter and decimal mark (:mod:`hipkit.io.encoding`, the first 5,000 records);
- malformed lines (:mod:`hipkit.io.delimited`: the same record iterator as in memory);
- whether the visit labels can be read, and the day/month order of the dates (over every
  distinct label and date of the file);
- the one spelling of each group and site (over every file).

Each bucket is then cleaned by :func:`hipkit.cleaning.pipeline.clean_tables` with those decisions (in
parallel on a Dask scheduler): the same steps, ``(frame, issues) -> (frame, issues)``, as in memory
(``FILE_STEPS`` and ``TABLE_STEPS`` of :mod:`hipkit.cleaning.pipeline`; the check across every
participant, :func:`~hipkit.cleaning.participants.warn_id_collisions`, runs once over the ids of all
parts). The parts, quarantines and logs are then combined. The outcome is the
same as cleaning in memory: the same clean rows, quarantine and row accounting (a test checks it
on every reader case of the hostile corpus). Only one bucket per worker is in memory at a time;
the clean table is written as a folder of parquet files (read it with
``dask.dataframe.read_parquet``). CSV is streamed, Parquet read by row batches, and Excel (at most
about a million rows a sheet) read whole.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._display import SummaryText, html_result, json_safe, records
from .._glossary import QUARANTINE_COLUMNS
from ..errors import InputError, OutputError, UnreadableFileError
from ..io import atomic_path, write_csv, write_text
from ..io.delimited import Malformed, iter_records, sniff_delimiter
from ..io.encoding import decode_bytes
from ..io.readers import (
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    SUPPORTED_SUFFIXES,
    RawTable,
    _dedupe_headers,
    _detect_decimal,
    _parquet_text_columns,
    _sha256,
    duplicate_headers,
    read_tables,
)
from ..parallel import run_replicates
from .accounting import accounting_figure, accounting_glance
from .audit import AuditLog
from .columns import map_columns
from .deidentify import code_for
from .harmonise import free_text_values, normalise_ids, visit_label_text
from .identifiers import IdentifierScan
from .issues import Issues
from .participants import warn_id_collisions
from .pipeline import CleanOptions, _input_paths, check_headers, clean_tables
from .spellings import choose_spellings

__all__ = ["clean_out_of_core", "OutOfCoreResult"]

#: Bytes read to decide a CSV file's encoding and delimiter.
_HEAD_BYTES = 8 << 20
#: Records buffered before they are written to the bucket files.
_CHUNK = 100_000


@dataclass(frozen=True)
class OutOfCoreResult:
    """Where the parts went, and the combined log.

    Attributes
    ----------
    out_dir : pathlib.Path
        ``data/`` (parquet parts), ``quarantine.csv`` and ``log.json`` inside.
    log : dict
        The combined audit log (``log["rows"]`` accounts for every input record).
    """

    out_dir: Path
    log: dict

    @property
    def data_path(self) -> Path:
        """The folder of parquet parts of the clean table."""
        return self.out_dir / "data"

    def glance(self) -> pd.DataFrame:
        """One row of row accounting, as :meth:`CleanResult.glance`."""
        return accounting_glance(self.log)

    def _reasons(self) -> pd.Series | None:
        path = self.out_dir / "quarantine.csv"
        if not path.exists():
            return None
        reasons = pd.read_csv(path, usecols=["reason"], dtype=str)["reason"]
        return reasons if len(reasons) else None

    def summary(self) -> SummaryText:
        """Where the outputs are and where every input record went."""
        g = self.glance().iloc[0]
        lines = [
            "hipkit clean (out of core)",
            f"  outputs: {self.out_dir}",
            f"  records in: {g['records_in']}  clean: {g['clean']}  quarantined: {g['quarantined']}  "
            f"duplicates removed: {g['duplicates_removed']}",
            f"  clean table: {g['rows_out']} rows (parquet parts in {self.data_path.name}/)",
        ]
        lines += [f"  warning: {w}" for w in self.log.get("warnings", [])]
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html_result("hipkit clean (out of core)", self.glance(), self.log.get("warnings", []))

    def plot(self):
        """Where the input records went, and the quarantine reasons (a Figure, not shown)."""
        return accounting_figure(self.log, self._reasons())

    def to_dict(self) -> dict:
        """JSON-safe form: the output folder, the audit log and the row accounting."""
        return {"out_dir": str(self.out_dir), "log": json_safe(self.log), "glance": records(self.glance())[0]}


@dataclass
class _TablePart:
    """One input table (a file, or a sheet) as split: its header, decisions and bucket files."""

    name: str
    header: list
    info: dict
    bad_lines: list = field(default_factory=list)
    cell_issues: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    chunks: dict = field(default_factory=dict)  # bucket -> [parquet files]
    spellings: dict = field(default_factory=dict)  # column -> Counter(spelling -> lines)
    scan: object = None  # the whole table's IdentifierScan
    labels: Counter = field(default_factory=Counter)
    dates: set = field(default_factory=set)


def _bucket_of(ids: pd.Series, partitions: int) -> np.ndarray:
    """The bucket of each record: a hash of the id as the cleaner normalises it."""
    norm = normalise_ids(ids)
    codes, uniques = pd.factorize(norm)
    table = np.fromiter((zlib.crc32(str(u).encode("utf-8")) % partitions for u in uniques), dtype=np.int64)
    return table[codes] if len(uniques) else np.zeros(len(ids), dtype=np.int64)


class _Splitter:
    """Streams the records of one table into bucket files and gathers the file-wide decisions."""

    def __init__(self, part: _TablePart, work: Path, partitions: int, options: CleanOptions, index: int) -> None:
        self.part = part
        self.work = work
        self.partitions = partitions
        self.options = options
        self.index = index
        part.info.setdefault("duplicate_headers", duplicate_headers(part.header))
        check_headers(part.info, part.name)
        self.columns = _dedupe_headers(part.header)
        roles = map_columns(list(self.columns), options.registry, options.mapping, part.name)
        self.roles = roles
        part.scan = IdentifierScan(options.registry, roles)
        part.scan.update(pd.DataFrame({c: pd.array([], dtype="str") for c in self.columns}))  # every column known
        self.id_col = next(r.raw for r in roles if r.role == "key" and r.target == "participant_id")
        self.visit_cols = [r.raw for r in roles if r.role == "key" and r.target == "visit"]
        self.date_cols = [r.raw for r in roles if r.role == "key" and r.target == "visit_date"]
        self.text_cols = {r.target: r.raw for r in roles if r.role == "key" and r.target in ("group", "site")}
        self.n_chunks = 0
        self.records = 0
        self.decimal_sample: list[pd.DataFrame] = []
        self.sampled = 0

    def add(self, frame: pd.DataFrame, lines: np.ndarray) -> None:
        """Take one chunk of records (text columns) with their lines."""
        if not len(frame):
            return
        self.records += len(frame)
        self.part.scan.update(frame)
        if self.sampled < 5000:
            self.decimal_sample.append(frame.head(5000 - self.sampled))
            self.sampled += len(self.decimal_sample[-1])
        for col in self.visit_cols:
            self.part.labels.update(visit_label_text(frame[col]).value_counts().to_dict())
        for col in self.date_cols:
            text = frame[col].astype("object").where(frame[col].notna(), "").astype("str").str.strip()
            self.part.dates.update(pd.unique(text))
        for target, col in self.text_cols.items():
            values = free_text_values(frame[col], target, self.options.mapping, self.options.registry)
            counts = self.part.spellings.setdefault(target, Counter())
            counts.update(values.dropna().value_counts().to_dict())
        bucket = _bucket_of(frame[self.id_col], self.partitions)
        frame = frame.assign(__line=lines)
        for b in np.unique(bucket):
            path = self.work / f"t{self.index:03d}_b{int(b):04d}_c{self.n_chunks:05d}.parquet"
            frame.loc[bucket == b].to_parquet(path, index=False)
            self.part.chunks.setdefault(int(b), []).append(str(path))
        self.n_chunks += 1

    def decimal(self, delimiter: str) -> str:
        sample = pd.concat(self.decimal_sample, ignore_index=True) if self.decimal_sample else pd.DataFrame()
        return _detect_decimal(sample, delimiter)


def _frame_of(columns: list[str], rows: list) -> tuple[pd.DataFrame, np.ndarray]:
    cols = list(zip(*(f for _, f in rows))) if rows else [()] * len(columns)
    frame = pd.DataFrame({c: pd.array(v, dtype="str") for c, v in zip(columns, cols)})
    return frame, np.fromiter((ln for ln, _ in rows), dtype=np.int64, count=len(rows))


def _split_csv(path: Path, index: int, work: Path, k: int, options: CleanOptions) -> list[_TablePart]:
    name = path.name
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
        more = bool(fh.read(1))
    if more and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only: a cut character is not an encoding error
    decoded = decode_bytes(head, name)
    if not decoded.text.strip():
        raise UnreadableFileError(f"{name}: the file holds only blank space")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(decoded.text)
    info = {
        "file": name,
        "sha256": _sha256(path),
        "format": "csv",
        "encoding": decoded.encoding,
        "encoding_confidence": decoded.confidence,
        "delimiter": delimiter,
    }
    stats: dict = {}
    with open(path, "rb") as raw:
        stream = io.TextIOWrapper(raw, encoding=decoded.codec, errors=decoded.errors, newline="")
        items = iter_records(stream, name, delimiter, stats=stats)
        header = next(items).fields
        part = _TablePart(name=name, header=header, info=info, warnings=list(decoded.warnings))
        splitter = _Splitter(part, work, k, options, index)
        rows: list = []
        for item in items:
            if type(item) is tuple:
                rows.append(item)
                if len(rows) >= _CHUNK:
                    splitter.add(*_frame_of(splitter.columns, rows))
                    rows = []
            elif isinstance(item, Malformed):
                part.bad_lines.append(item)
        splitter.add(*_frame_of(splitter.columns, rows))
    info["decimal"] = splitter.decimal(delimiter)
    info["physical_lines"] = int(stats.get("lines", 0))
    info["blank_lines"] = int(stats.get("blank_lines", 0))
    info["rows_read"] = splitter.records + len(part.bad_lines)
    info["bad_lines"] = len(part.bad_lines)
    return [part]


def _split_parquet(path: Path, index: int, work: Path, k: int, options: CleanOptions) -> list[_TablePart]:
    import pyarrow.parquet as pq

    name = path.name
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - a parser failure is one line naming the file
        raise UnreadableFileError(f"{name}: cannot read as parquet ({str(exc).splitlines()[0]})") from None
    header = [str(c) for c in pf.schema_arrow.names]
    info = {"file": name, "sha256": _sha256(path), "format": "parquet", "decimal": ".", "blank_lines": 0}
    part = _TablePart(name=name, header=header, info=info)
    splitter = _Splitter(part, work, k, options, index)
    start = 2
    for batch in pf.iter_batches(batch_size=_CHUNK):
        frame = batch.to_pandas()
        frame.columns = splitter.columns
        frame = _parquet_text_columns(frame)
        splitter.add(frame, np.arange(start, start + len(frame), dtype=np.int64))
        start += len(frame)
    info["rows_read"] = splitter.records
    info["bad_lines"] = 0
    return [part]


def _split_excel(path: Path, index: int, work: Path, k: int, options: CleanOptions) -> list[_TablePart]:
    parts = []
    for j, table in enumerate(read_tables(path, sheets=list(options.sheets) if options.sheets else None)):
        part = _TablePart(
            name=table.source_file,
            header=list(table.data.columns),
            info=dict(table.info),
            bad_lines=list(table.bad_lines),
            cell_issues=list(table.cell_issues),
            warnings=list(table.warnings),
        )
        splitter = _Splitter(part, work, k, options, index * 100 + j)
        splitter.add(table.data, table.lines)
        parts.append(part)
    return parts


def _split(path: Path, index: int, work: Path, k: int, options: CleanOptions) -> list[_TablePart]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{path.name}: the file is empty")
    if options.sheets and suffix not in EXCEL_SUFFIXES:
        raise UnreadableFileError(f"{path.name}: --sheet applies to Excel workbooks only")
    if suffix in EXCEL_SUFFIXES:
        return _split_excel(path, index, work, k, options)
    if suffix in PARQUET_SUFFIXES:
        return _split_parquet(path, index, work, k, options)
    return _split_csv(path, index, work, k, options)


def _clean_bucket(k: int, parts: list[_TablePart], out_dir: str, options: CleanOptions, spellings: dict) -> dict:
    """Clean one bucket; write its part; return its log, quarantine and participant ids."""
    import warnings

    tables = []
    for part in parts:
        files = part.chunks.get(k, [])
        first = k == 0  # file-wide findings (malformed lines, warnings) travel with bucket 0
        if not files and not (first and part.bad_lines):
            continue
        frames = [pd.read_parquet(f) for f in files]
        if frames:
            data = pd.concat(frames, ignore_index=True)
            lines = data.pop("__line").to_numpy(dtype=np.int64)
        else:
            data = pd.DataFrame({c: pd.array([], dtype="str") for c in _dedupe_headers(part.header)})
            lines = np.zeros(0, dtype=np.int64)
        line_set = set(lines.tolist())
        info = {
            **part.info,
            "context": {"visit": dict(part.labels), "visit_date": sorted(part.dates)},
        }
        tables.append(
            RawTable(
                data=data,
                lines=lines,
                source_file=part.name,
                info=info,
                bad_lines=part.bad_lines if first else [],
                cell_issues=[c for c in part.cell_issues if c["line"] in line_set],
                warnings=part.warnings if first else [],
            )
        )
    if not tables:
        return {"log": None, "quarantine": None, "ids": []}
    context = {
        "spellings": spellings,
        "global_checks": False,
        "ids": [],
        "identifier_scans": {p.name: p.scan for p in parts if p.scan is not None},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = clean_tables(tables, options, context=context)
    if len(res.data):
        with atomic_path(Path(out_dir) / "data" / f"part-{k:04d}.parquet") as tmp:
            res.data.to_parquet(tmp, index=False)
    return {"log": res.log, "quarantine": res.quarantine, "ids": context["ids"]}


def _add_counts(total: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            _add_counts(total.setdefault(key, {}), value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value


def clean_out_of_core(
    inputs,
    out_dir,
    partitions: int | None = None,
    scheduler=None,
    progress: bool = True,
    salt: str | bytes | Path | None = None,
    **kwargs,
) -> OutOfCoreResult:
    """Clean exports larger than memory into a folder of parquet parts, with one combined log.

    Parameters
    ----------
    inputs : path or list of paths
        CSV, Excel or Parquet exports.
    out_dir : path
        Folder to write (new, or empty): ``data/part-*.parquet``, ``quarantine.csv``, ``log.json``.
        Nothing is left in it when the run fails.
    partitions : int, optional
        Number of participant buckets (default: one per 50 MB of input, at least 2).
    scheduler : None, "serial", str or distributed.Client
        Where the buckets are cleaned: None uses Dask's local processes; a scheduler address or a
        Client a cluster (its workers must see ``out_dir``); "serial" here.
    progress : bool, default True
    salt : str, bytes or path, optional
        For ``deidentify=True``: one salt for every bucket (a random one is drawn when missing, so
        codes are consistent within this run).
    **kwargs
        As :func:`hipkit.clean` (``mapping``, ``schedule``, ``window_days``, ``deidentify``,
        ``measures``, ``sheets``).

    Returns
    -------
    OutOfCoreResult

    Raises
    ------
    InputError
        As :func:`hipkit.clean`; also an output folder that exists and is not empty.

    Examples
    --------
    >>> res = clean_out_of_core("datasets/raw/clinic_multisite_export.csv", "/tmp/clean_big")  # doctest: +SKIP
    >>> res.log["rows"]["invariant_holds"]  # doctest: +SKIP
    True
    """
    paths = _input_paths(inputs)
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise InputError(f"partitions must be a whole number of at least 1, got {partitions!r}")
    options = CleanOptions.make(salt=salt, progress=False, **kwargs)
    for p in paths:
        if not p.is_file():
            raise UnreadableFileError(f"{p}: no such file")
    size = sum(p.stat().st_size for p in paths)
    k = int(partitions) if partitions else max(2, int(np.ceil(size / 50e6)))
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: the output folder exists and is not empty")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None
    work = Path(tempfile.mkdtemp(prefix="hipkit-buckets-", dir=out))
    try:
        parts: list[_TablePart] = []
        for i, p in enumerate(paths):
            parts += _split(p, i, work, k, options)
        totals: dict = {}
        for part in parts:
            for col, counts in part.spellings.items():
                totals.setdefault(col, Counter()).update(counts)
        spellings = choose_spellings(totals)
        tasks = [(b, parts, str(out), options, spellings) for b in range(k)]
        (out / "data").mkdir(exist_ok=True)
        results = run_replicates(_clean_bucket, tasks, scheduler=scheduler, progress=progress, desc="cleaning parts")
        combined = _combine(results, parts, paths, options, k)
        quar = [r["quarantine"] for r in results if r["quarantine"] is not None and len(r["quarantine"])]
        if quar:
            quarantine = pd.concat(quar, ignore_index=True)
            quarantine = quarantine.sort_values(["source_file", "source_line", "column"], kind="stable")
        else:
            quarantine = pd.DataFrame({c: pd.Series(dtype="object") for c in QUARANTINE_COLUMNS})
        write_csv(quarantine, out / "quarantine.csv")
        write_text(out / "log.json", json.dumps(combined, indent=2, default=str) + "\n")
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return OutOfCoreResult(out_dir=out, log=combined)


def _combine(results: list[dict], parts: list[_TablePart], paths: list[Path], options: CleanOptions, k: int) -> dict:
    logs = [r["log"] for r in results if r["log"] is not None]
    rows: dict = {}
    counts: dict = {}
    warnings_seen: list[str] = []
    for log in logs:
        _add_counts(rows, {key: v for key, v in log["rows"].items() if key != "invariant_holds"})
        for key in ("duplicate_lines", "combined_lines"):
            rows.setdefault(key, [])
            rows[key] += log["rows"].get(key, [])
        _add_counts(counts, log["counts"])
        for w in log["warnings"]:
            if w not in warnings_seen:
                warnings_seen.append(w)
    for key in ("duplicate_lines", "combined_lines"):
        rows[key] = sorted(rows.get(key, []), key=lambda item: (item.rpartition(":")[0], int(item.rpartition(":")[2])))
        if not rows[key]:
            rows.pop(key)
    for key in (
        "lines",
        "in",
        "clean",
        "quarantined",
        "duplicates_removed",
        "combined_into_other_rows",
        "out",
        "values_quarantined",
        "participants",
    ):
        rows.setdefault(key, 0)
    rows["invariant_holds"] = rows["in"] == rows["clean"] + rows["quarantined"] + rows["duplicates_removed"]
    rows["records_read"] = sum(int(p.info.get("rows_read", 0)) for p in parts)
    # Checks over every participant (ids that differ only in leading zeros sit in different buckets).
    log = AuditLog()
    if options.deidentify:
        log.id_display = lambda v, salt=options.salt: code_for(salt, v)
    ids = pd.Series([i for r in results for i in r["ids"]], dtype="object")
    _, issues = warn_id_collisions(pd.DataFrame({"participant_id": ids}), Issues(log=log))
    warnings_seen += [log.render(w) for w in issues.log.warnings]
    first = logs[0] if logs else AuditLog(settings=dict(options.settings)).to_dict()
    return {
        "hipkit_version": first["hipkit_version"],
        "settings": {**options.settings, "out_of_core": {"partitions": k}},
        "inputs": [{**p.info, "records": int(p.info.get("rows_read", 0))} for p in parts],
        "rows": rows,
        "counts": counts,
        "warnings": warnings_seen,
    }
