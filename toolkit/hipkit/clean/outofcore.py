"""Cleaning exports larger than memory: split by participant, clean each part on Dask, combine.

Everything the cleaner decides about a record depends on the file's header and on the other
records of the same participant (duplicates, participant-level values, visit windows, change from
baseline), never on other participants. So a CSV export is streamed once and its records are
written to ``partitions`` bucket files by a hash of the (normalised) participant id, keeping the
header and each record's original line number; each bucket is then cleaned by :func:`hipkit.clean`
as an ordinary file (in parallel on a Dask scheduler), its line numbers mapped back to the original
file, and the parts, quarantines and logs combined. Only one bucket per worker is in memory at a
time; the clean table is written as a folder of parquet files (read it with
``dask.dataframe.read_parquet``).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.readers import _decode, _sniff_delimiter, records_with_lines
from ..registry import load_registry
from .columns import load_mapping, map_columns

__all__ = ["clean_out_of_core", "OutOfCoreResult"]

_HEAD_BYTES = 1 << 20
_WS = re.compile(r"\s+")


@dataclass
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


def _bucket_of(raw_id: str, partitions: int) -> int:
    key = _WS.sub("", raw_id).upper()  # as harmonise_ids normalises ids
    return zlib.crc32(key.encode("utf-8")) % partitions


def _split(path: Path, index: int, workdir: Path, partitions: int, registry, mapping) -> dict:
    """Stream one CSV export into bucket files; return its info and the line maps."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    text, encoding = _decode(head, path.name)
    if encoding == "utf-16":
        raise InputError(f"{path.name}: UTF-16 exports are cleaned in memory only; save it as UTF-8")
    delimiter = _sniff_delimiter(text)
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path.name}: the file has no header line") from None
        roles = map_columns(list(header), registry, mapping, path.name)
        id_cols = [i for i, r in enumerate(roles) if r.role == "key" and r.target == "participant_id"]
        if not id_cols:
            raise InputError(f"{path.name}: no participant id column found; map it in a --map file")
        id_col = id_cols[0]
        writers, files, lines = [], [], [[] for _ in range(partitions)]
        for k in range(partitions):
            f = open(workdir / f"b{k:04d}_f{index:03d}.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115
            w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
            w.writerow(header)
            writers.append(w)
            files.append(f)
        try:
            records = 0
            for start, rec in records_with_lines(reader):
                if isinstance(rec, csv.Error):  # unparseable: kept as an empty line (a line without values)
                    rec = []
                k = _bucket_of(rec[id_col], partitions) if len(rec) > id_col else 0
                writers[k].writerow(rec)
                lines[k].append(start)
                records += 1
        finally:
            for f in files:
                f.close()
    return {
        "name": path.name,
        "index": index,
        "lines": [np.asarray(x, dtype=np.int64) for x in lines],
        "records": records,
        "delimiter": delimiter,
        "encoding": encoding,
    }


def _remap_lines(values: pd.Series, files: pd.Series, line_maps: dict, names: dict) -> tuple[pd.Series, pd.Series]:
    """Bucket-file (name, line) -> original (name, line); line 1 (header) stays 1."""
    out_lines = values.astype("int64").copy()
    for bucket_name, lmap in line_maps.items():
        sel = (files == bucket_name).to_numpy()
        if sel.any():
            local = values[sel].astype("int64").to_numpy()
            out_lines[sel] = np.where(local >= 2, lmap[np.clip(local - 2, 0, len(lmap) - 1)], local)
    return out_lines, files.map(lambda f: names.get(f, f))


def _clean_bucket(k: int, bucket_files: list[str], line_maps: dict, names: dict, out_dir: str, kwargs: dict) -> dict:
    """Clean one bucket, map its lines back, write its part; return its log."""
    import warnings

    from .pipeline import clean

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = clean(bucket_files, progress=False, **kwargs)
    data, quar, log = res.data, res.quarantine, res.log
    if "source_line" in data.columns:
        data["source_line"], data["source_file"] = _remap_lines(
            data["source_line"], data["source_file"], line_maps, names
        )
    if len(quar):
        quar["source_line"], quar["source_file"] = _remap_lines(
            quar["source_line"], quar["source_file"], line_maps, names
        )
    for key in ("duplicate_lines", "combined_lines"):
        if key in log["rows"]:
            remapped = []
            for item in log["rows"][key]:
                name, _, line = item.rpartition(":")
                lmap = line_maps.get(name)
                line = int(line)
                remapped.append(f"{names.get(name, name)}:{int(lmap[line - 2]) if lmap is not None else line}")
            log["rows"][key] = remapped
    (Path(out_dir) / "data").mkdir(parents=True, exist_ok=True)
    if len(data):
        data.to_parquet(Path(out_dir) / "data" / f"part-{k:04d}.parquet", index=False)
    quar.to_csv(Path(out_dir) / f"quarantine-{k:04d}.csv", index=False)
    return log


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
    """Clean CSV exports larger than memory into a folder of parquet parts, with one combined log.

    Parameters
    ----------
    inputs : path or list of paths
        CSV exports (other formats: use :func:`hipkit.clean`).
    out_dir : path
        Folder to write: ``data/part-*.parquet``, ``quarantine.csv``, ``log.json``.
    partitions : int, optional
        Number of participant buckets (default: one per 50 MB of input, at least 2).
    scheduler : None, "serial", str or distributed.Client
        Where the buckets are cleaned: None uses Dask's local processes; a scheduler address or a
        Client a cluster (its workers must see ``out_dir`` and the temporary folder); "serial" here.
    progress : bool, default True
    salt : str, bytes or path, optional
        For ``deidentify=True``: one salt for every bucket (a random one is drawn when missing, so
        codes are consistent within this run).
    **kwargs
        Passed to :func:`hipkit.clean` (``mapping``, ``schedule``, ``window_days``, ``deidentify``,
        ``measures``).

    Returns
    -------
    OutOfCoreResult

    Examples
    --------
    >>> res = clean_out_of_core("datasets/raw/clinic_multisite_export.csv", "/tmp/clean_big")  # doctest: +SKIP
    >>> res.log["rows"]["invariant_holds"]  # doctest: +SKIP
    True
    """
    from ..parallel import run_replicates
    from .deidentify import read_salt

    paths = [Path(inputs)] if isinstance(inputs, (str, Path)) else [Path(p) for p in inputs]
    for p in paths:
        if not p.is_file():
            raise InputError(f"{p}: no such file")
        if p.suffix.lower() not in (".csv", ".txt", ".tsv"):
            raise InputError(f"{p.name}: only CSV exports are cleaned out of core; use hipkit.clean for {p.suffix}")
    size = sum(p.stat().st_size for p in paths)
    k = int(partitions) if partitions else max(2, int(np.ceil(size / 50e6)))
    if kwargs.get("deidentify"):
        kwargs["salt"] = read_salt(salt)
    registry = load_registry().extend(kwargs["measures"]) if kwargs.get("measures") else load_registry()
    mapping = load_mapping(kwargs.get("mapping"))
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out}: the output folder exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hipkit-buckets-", dir=out))
    try:
        splits = [_split(p, i, work, k, registry, mapping) for i, p in enumerate(paths)]
        tasks = []
        for b in range(k):
            files = [str(work / f"b{b:04d}_f{s['index']:03d}.csv") for s in splits]
            line_maps = {Path(f).name: s["lines"][b] for f, s in zip(files, splits)}
            names = {Path(f).name: s["name"] for f, s in zip(files, splits)}
            tasks.append((b, files, line_maps, names, str(out), kwargs))
        logs = run_replicates(_clean_bucket, tasks, scheduler=scheduler, progress=progress, desc="cleaning parts")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    quarantine = [pd.read_csv(q) for q in sorted(out.glob("quarantine-*.csv"))]
    quar = pd.concat([q for q in quarantine if len(q)] or quarantine[:1], ignore_index=True)
    quar.sort_values(["source_file", "source_line"], kind="stable").to_csv(out / "quarantine.csv", index=False)
    for q in out.glob("quarantine-*.csv"):
        q.unlink()
    rows: dict = {}
    counts: dict = {}
    warnings_seen: list[str] = []
    for log in logs:
        _add_counts(rows, {k2: v for k2, v in log["rows"].items() if k2 != "invariant_holds"})
        for key in ("duplicate_lines", "combined_lines"):
            rows.setdefault(key, [])
            rows[key] += log["rows"].get(key, [])
        _add_counts(counts, log["counts"])
        for w in log["warnings"]:
            w = re.sub(r"b\d{4}_f(\d{3})\.csv", lambda m: splits[int(m.group(1))]["name"], w)
            if w not in warnings_seen:
                warnings_seen.append(w)
    for key in ("duplicate_lines", "combined_lines"):
        rows[key] = sorted(rows[key], key=lambda item: (item.rpartition(":")[0], int(item.rpartition(":")[2])))
    rows["invariant_holds"] = rows["in"] == rows["clean"] + rows["quarantined"] + rows["duplicates_removed"]
    rows["records_read"] = sum(s["records"] for s in splits)
    combined = {
        "hipkit_version": logs[0]["hipkit_version"],
        "settings": {**logs[0]["settings"], "out_of_core": {"partitions": k}},
        "inputs": [
            {"file": s["name"], "records": s["records"], "delimiter": s["delimiter"], "encoding": s["encoding"]}
            for s in splits
        ],
        "rows": rows,
        "counts": counts,
        "warnings": warnings_seen,
    }
    (out / "log.json").write_text(json.dumps(combined, indent=2, default=str) + "\n", encoding="utf-8")
    return OutOfCoreResult(out_dir=out, log=combined)
