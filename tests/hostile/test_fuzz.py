"""Generated damage: hypothesis writes long exports with random hostile lines; no record may vanish.

Each example is a CSV built line by line from a clean cohort, where any line may be damaged
(an unbalanced quote, surplus or missing fields, an embedded newline, a blank line before it, an
exact copy of an earlier line), with random line endings, delimiter and BOM. Run in memory and out
of core through the command line: the exit code is 0 or 2 (the same both ways); a refusal is one
line and writes nothing; a clean run accounts for every record, traces each to exactly one place,
and keeps the values of the undamaged lines.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from corpus_base import SIDES, STD_HEADER, CsvDoc, cohort, num, rng_for
from hostile_formats import Raw
from hostile_run import all_files, case_argv, read_csv_rows, run_in_process, value_matches
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

POOL = cohort(rng_for("fuzz"), 8, weeks=(0, 2, 4))  # 48 distinct records to draw lines from
DAMAGE = ["ok", "ok", "ok", "quote", "surplus", "short", "newline", "blank_before", "copy"]
READ_NORMALLY = {"ok", "newline", "blank_before"}


class _Spec:
    """What a generated file is: records (line, kind, visit) and the command-line inputs."""

    def __init__(self, name: str, inputs: list[str]) -> None:
        self.name, self.inputs, self.args, self.outputs = name, inputs, [], {}


def _write(kinds: list[str], eol: str, delimiter: str, bom: bool, path: Path) -> list[tuple[int, str, object]]:
    doc = CsvDoc(delimiter=delimiter, eol=eol if eol != "mixed" else "\n")
    doc.add([*STD_HEADER, "Notes"])
    written: list[tuple[int, str, object]] = []
    prev_end = "\n"
    for i, kind in enumerate(kinds):
        v = POOL[i % len(POOL)]
        row = [*v.row(), "note"]
        end = ("\n", "\r\n", "\r")[i % 3] if eol == "mixed" else None
        if kind == "copy" and written:
            _, _, v = written[-1]
            row = [*v.row(), "note"]
        if kind == "blank_before":
            # A line ended by a lone CR and an empty line ended by LF would be one CRLF, not a blank
            # line: end the blank line so that it is one.
            blank_end = "\r\n" if prev_end == "\r" and (end or eol) == "\n" else end
            doc.add(Raw(""), eol=blank_end)
        if kind == "quote":
            line = doc.add(Raw('"' + doc.render(row)), eol=end)
        elif kind == "surplus":
            line = doc.add([*row, "surplus", "9"], eol=end)
        elif kind == "short":
            line = doc.add(row[:-2], eol=end)
        elif kind == "newline":
            line = doc.add([*v.row(), "two\nlines"], eol=end)
        else:
            line = doc.add(row, eol=end)
        prev_end = end or eol
        written.append((line, kind, v))
    path.write_bytes(doc.encode(bom=b"\xef\xbb\xbf" if bom else b""))
    return written


def _check_clean(run_dir: Path, outs: dict, mode: str, written) -> None:
    import json

    import pandas as pd

    log = json.loads((run_dir / outs["log"]).read_text())
    rows = log["rows"]
    assert rows["lines"] == len(written), f"{mode}: rows.lines {rows['lines']} != {len(written)} records written"
    assert rows["in"] == rows["clean"] + rows["quarantined"] + rows["duplicates_removed"], f"{mode}: {rows}"
    if mode == "mem":
        _, clean = read_csv_rows(run_dir / outs["out"])
    else:
        parts = sorted((run_dir / outs["out"] / "data").glob("*.parquet"))
        frame = pd.concat([pd.read_parquet(p) for p in parts]) if parts else pd.DataFrame()
        clean = [{k: str(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
    _, quarantine = read_csv_rows(run_dir / outs["quarantine"])
    places: dict[int, list[str]] = {}
    for r in clean:
        places.setdefault(int(float(r["source_line"])), []).append("clean")
    for q in quarantine:
        if q["action"] == "row_removed":
            places.setdefault(int(float(q["source_line"])), []).append("removed")
    for key in ("duplicate_lines", "combined_lines"):
        for item in rows.get(key, []):
            places.setdefault(int(item.rpartition(":")[2]), []).append(key)
    lines = {ln for ln, _, _ in written}
    for line, kind, v in written:
        where = places.get(line, [])
        assert len(where) == 1, f"{mode}: the {kind} record at line {line} is in {where or 'no place'}"
        if kind in READ_NORMALLY and where == ["clean"]:
            row = next(r for r in clean if int(float(r["source_line"])) == line)
            assert row["participant_id"] == v.pid and row["side"] == SIDES[v.side], f"{mode}: line {line}: {row}"
            assert value_matches(row["hip_abd_strength_n"], v.strength), f"{mode}: line {line}: {num(v.strength)}"
    assert set(places) <= lines, f"{mode}: places for lines that are not records: {sorted(set(places) - lines)}"


# Shrinking a failure costs minutes (every step runs hipkit twice), so the default run reports the
# failing example as found; HYPOTHESIS_PROFILE=deep (tests/conftest.py) shrinks it and tries more.
_DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
_PHASES = list(Phase) if _DEEP else [Phase.explicit, Phase.reuse, Phase.generate]


@settings(
    max_examples=300 if _DEEP else 25,
    derandomize=not _DEEP,
    database=None,
    deadline=None,
    phases=_PHASES,
    report_multiple_bugs=False,
)
@given(
    kinds=st.lists(st.sampled_from(DAMAGE), min_size=1, max_size=40),
    eol=st.sampled_from(["\n", "\r\n", "\r", "mixed"]),
    delimiter=st.sampled_from([",", ";"]),
    bom=st.booleans(),
)
def test_generated_damage_never_loses_a_record(kinds, eol, delimiter, bom):
    codes = {}
    with tempfile.TemporaryDirectory(prefix="hostile-fuzz-") as tmp:
        for mode in ("mem", "ooc"):
            run_dir = Path(tmp) / mode
            run_dir.mkdir()
            written = _write(kinds, eol, delimiter, bom, run_dir / "export.csv")
            argv, outs = case_argv(_Spec("fuzz", ["export.csv"]), mode)
            before = all_files(run_dir)
            result = run_in_process(argv, run_dir)
            codes[mode] = result.code
            assert result.code in (0, 2), f"{mode}: exit {result.code}: {result.stderr.strip()[-300:]}"
            if result.code == 2:
                assert len(result.stderr_lines) == 1 and result.stderr_lines[0].startswith("hipkit: error: ")
                assert all_files(run_dir) == before, f"{mode}: a refusal left {all_files(run_dir) - before}"
            else:
                _check_clean(run_dir, outs, mode, written)
    assert codes["mem"] == codes["ooc"], f"exit {codes['mem']} in memory, {codes['ooc']} out of core"
