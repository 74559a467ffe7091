"""Cleaning larger-than-memory exports: split by participant, clean the parts on Dask, combine."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import hipkit
from hipkit.cleaning.outofcore import clean_out_of_core
from hipkit.cli import main
from hipkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "datasets" / "raw" / "clinic_multisite_export.csv"
KEY = ["participant_id", "visit_week", "side"]


@pytest.fixture(scope="module")
def in_memory():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hipkit.clean(EXPORT, progress=False)


def _same_as_in_memory(out: Path, log: dict, mem) -> None:
    data = pd.read_parquet(out / "data")
    a = mem.data.sort_values(KEY).reset_index(drop=True)
    b = data.sort_values(KEY).reset_index(drop=True)[a.columns]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    quar = pd.read_csv(out / "quarantine.csv")
    cols = ["source_file", "source_line", "column", "reason", "action"]
    qa = mem.quarantine[cols].astype(str).sort_values(cols[:3]).reset_index(drop=True)
    qb = quar[cols].astype(str).sort_values(cols[:3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(qa, qb)
    for key in ("in", "clean", "quarantined", "duplicates_removed", "values_quarantined", "participants"):
        assert log["rows"][key] == mem.log["rows"][key], key
    assert log["rows"]["invariant_holds"]
    assert sorted(log["rows"]["duplicate_lines"]) == sorted(mem.log["rows"]["duplicate_lines"])
    assert log["counts"] == mem.log["counts"]


def test_out_of_core_cleaning_on_two_workers_equals_in_memory_cleaning(dask_client, in_memory, tmp_path):
    res = clean_out_of_core(EXPORT, tmp_path / "out", partitions=5, scheduler=dask_client, progress=False)
    assert len(list((tmp_path / "out" / "data").glob("part-*.parquet"))) == 5
    _same_as_in_memory(tmp_path / "out", res.log, in_memory)
    assert json.loads((tmp_path / "out" / "log.json").read_text())["rows"] == res.log["rows"]
    assert not list((tmp_path / "out").glob("hipkit-buckets-*"))  # the bucket files are removed


def test_cli_cleans_out_of_core_into_a_folder(in_memory, tmp_path, capsys):
    code = main(
        [
            "clean",
            str(EXPORT),
            "--out",
            str(tmp_path / "big"),
            "--out-of-core",
            "--partitions",
            "3",
            "--scheduler",
            "serial",
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    log = json.loads((tmp_path / "big" / "log.json").read_text())
    _same_as_in_memory(tmp_path / "big", log, in_memory)


def test_out_of_core_refuses_non_csv_and_a_full_output_folder(tmp_path):
    with pytest.raises(InputError, match="unsupported file type"):
        clean_out_of_core(ROOT / "datasets" / "raw" / "README.md", tmp_path / "o", scheduler="serial")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        clean_out_of_core(EXPORT, tmp_path / "full", scheduler="serial")
