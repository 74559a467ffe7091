"""Every promise of ``hipkit clean``, checked on every case of the hostile corpus, in both modes.

One test per promise, parametrised over the corpus (ids ``<case>-<mode>``), so a failure names the
case and the promise. Each (case, mode) runs once per session (see ``conftest.Runs``); these
tests only read what it did. The contract is the one of issue 10 (tests/hostile/README.md).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections import Counter

import make_corpus
import pytest
from hostile_params import case_params
from hostile_run import FORMULA_PREFIXES, MEMORY_LIMIT, TIME_LIMIT, run_in_process, value_matches

BY_NAME = {c.name: c for c in make_corpus.CASES}
MAX_SHOWN = 12
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_TEMPORARY = re.compile(r"(\.tmp$|hipkit-buckets-|quarantine-\d+\.csv$|^\.|/\.)")


def _shown(problems: list[str]) -> str:
    more = f"\n  ... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
    return "\n  " + "\n  ".join(problems[:MAX_SHOWN]) + more


def _cleaned(run) -> None:
    """Fail unless the run cleaned (exit 0): the promise under test needs its outputs."""
    if run.code != 0:
        pytest.fail(f"expected a clean run to check this promise on: {run.describe()}")


def _allowed_codes(case) -> set[int]:
    return {"clean": {0}, "refuse": {2}, "either": {0, 2}}[case.expect]


# -- exit status --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mode", case_params())
def test_exit_status_is_0_or_2_with_one_line_reason(runs, name, mode):
    """0 when it cleaned, 2 with exactly one 'hipkit: error: ' line when it refused; never 1 or 3."""
    run, case = runs.get(name, mode), BY_NAME[name]
    if run.result.not_run:
        pytest.skip(run.result.not_run)
    code, allowed, shown = run.code, _allowed_codes(case), run.describe()
    assert code is not None, f"did not finish within {TIME_LIMIT:g} s: {shown}"
    assert code in allowed, f"expected exit {sorted(allowed)}: {shown}"
    assert "Traceback" not in run.result.stderr, shown
    if code == 2:
        lines = run.result.stderr_lines
        assert len(lines) == 1, f"stderr must be one line, got {len(lines)}: {shown}"
        assert lines[0].startswith("hipkit: error: "), shown
        for pattern in case.mentions:
            assert re.search(pattern, lines[0]), f"the reason must name {pattern!r}: {lines[0]}"


@pytest.mark.parametrize("name, mode", case_params(lambda c: c.resource))
def test_resource_bomb_is_refused_within_limits(runs, name, mode):
    """A bomb is answered (exit 2, or 0 for the sparse sheet) before the time and memory limits."""
    run = runs.get(name, mode)
    code, shown, peak = run.code, run.describe(), run.result.peak_mb
    assert code is not None, f"killed after {TIME_LIMIT:g} s (address space {MEMORY_LIMIT >> 30} GiB): {shown}"
    assert "MemoryError" not in run.result.stderr, f"refused only because memory ran out: {shown}"
    assert peak < 0.8 * (MEMORY_LIMIT >> 20), f"peak {peak:.0f} MB: {shown}"
    assert code in _allowed_codes(BY_NAME[name]), shown


# -- files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mode", case_params())
def test_raw_files_are_never_modified(runs, name, mode):
    """The SHA-256 of every input (and of every link to one) is the same after the run."""
    run = runs.get(name, mode)
    changed, shown = [p for p in run.inputs if run.before[p] != run.after[p]], run.describe()
    assert not changed, f"inputs changed: {changed}: {shown}"


@pytest.mark.parametrize("name, mode", case_params())
def test_refusal_leaves_no_output_and_success_no_temporary(runs, name, mode):
    """After exit 2 no new file exists; after exit 0 no temporary or bucket file is left."""
    run = runs.get(name, mode)
    if run.result.not_run:
        pytest.skip(run.result.not_run)
    new, shown = sorted(run.new_files), run.describe()
    if run.code == 0:
        stray = [p for p in new if _TEMPORARY.search(p)]
        assert not stray, f"left behind: {stray}"
    else:
        assert not new, f"files written by a run that did not clean: {new[:10]}; {shown}"


# -- nothing lost -------------------------------------------------------------------------------

ACCOUNTED = case_params(lambda c: c.expect != "refuse")


@pytest.mark.parametrize("name, mode", ACCOUNTED)
def test_row_accounting_balances_and_counts_every_record(runs, name, mode):
    """``rows.lines`` is the number of physical records written, and in == clean + quarantined + duplicates.

    ``rows.in`` counts the records after reshaping (a wide line makes one per visit and side), the
    unit the other counts are in; ``rows.lines`` counts the physical records read.
    """
    run, case = runs.get(name, mode), BY_NAME[name]
    if run.code == 2 and case.expect == "either":
        return  # refused with a reason (the exit test checks that the reason names the line)
    _cleaned(run)
    rows = run.log["rows"]
    assert rows["lines"] == case.n_records, (
        f"rows.lines = {rows['lines']}, the generator wrote {case.n_records} records"
    )
    total = rows["clean"] + rows["quarantined"] + rows["duplicates_removed"]
    counts = {k: v for k, v in rows.items() if not isinstance(v, list)}
    assert rows["in"] == total, f"in {rows['in']} != clean + quarantined + duplicates {total} ({counts})"
    for key, expected in case.rows.items():
        assert rows.get(key) == expected, f"rows.{key} = {rows.get(key)}, expected {expected}"


def _places(run) -> dict[tuple[str, int], list[str]]:
    places: dict[tuple[str, int], list[str]] = {}
    _, rows = run.clean
    for r in rows:
        key = (r.get("source_file", ""), int(float(r.get("source_line") or -1)))
        if "clean" not in places.setdefault(key, []):
            places[key].append("clean")
    for q in run.quarantine:
        if q.get("action") == "row_removed":
            places.setdefault((q["source_file"], int(float(q["source_line"]))), []).append("removed")
    for key in ("duplicate_lines", "combined_lines"):
        for item in run.log["rows"].get(key, []):
            origin, _, line = str(item).rpartition(":")
            places.setdefault((origin, int(line)), []).append(key.split("_")[0])
    return places


@pytest.mark.parametrize("name, mode", ACCOUNTED)
def test_every_record_is_traced_to_exactly_one_place(runs, name, mode):
    """Each physical record is in the clean table, removed to the quarantine, a duplicate or combined."""
    run, case = runs.get(name, mode), BY_NAME[name]
    if run.code == 2 and case.expect == "either":
        return
    _cleaned(run)
    places = _places(run)
    records = {(o, ln) for o, lines in case.records.items() for ln in lines}
    problems = []
    for origin, lines in case.records.items():
        for ln in lines:
            where = places.get((origin, ln), [])
            if not where:
                problems.append(f"{origin}:{ln} is nowhere (lost)")
            elif origin not in case.wide and len(where) > 1:
                problems.append(f"{origin}:{ln} is in {len(where)} places: {where}")
            elif origin in case.wide and "clean" in where and len(where) > 1 and set(where) - {"clean", "removed"}:
                problems.append(f"{origin}:{ln} is in {where}")
    phantoms = sorted(k for k in places if k not in records)
    problems += [f"{o}:{ln} is not a record of the input, but holds {places[(o, ln)]}" for o, ln in phantoms]
    rows = run.log["rows"]
    if len(rows.get("duplicate_lines", [])) != rows["duplicates_removed"]:
        problems.append(f"duplicate_lines lists {len(rows.get('duplicate_lines', []))} of {rows['duplicates_removed']}")
    assert not problems, _shown(problems)


# -- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mode", case_params(lambda c: bool(c.values or c.participants or c.id_pattern)))
def test_unambiguous_values_come_out_right(runs, name, mode):
    """The clean rows the generator knows hold the canonical values it wrote."""
    run, case = runs.get(name, mode), BY_NAME[name]
    if run.code == 2 and case.expect == "either":
        return
    _cleaned(run)
    cols, rows = run.clean
    problems = []
    for spec in case.values:
        where = spec["where"]
        found = [r for r in rows if all(k in r and value_matches(r[k], v) for k, v in where.items())]
        if len(found) != 1:
            problems.append(f"{len(found)} clean rows where {where} (expected 1)")
            continue
        for col, expected in spec["values"].items():
            if col not in found[0]:
                problems.append(f"{where}: no column {col!r}")
            elif not value_matches(found[0][col], expected):
                problems.append(f"{where}: {col} = {found[0][col]!r}, expected {expected!r}")
    if case.participants is not None:
        got = sorted({r["participant_id"] for r in rows})
        if got != sorted(case.participants):
            problems.append(f"participants {got}, expected {sorted(case.participants)}")
    if case.id_pattern:
        bad = sorted({r["participant_id"] for r in rows if not re.fullmatch(case.id_pattern, r["participant_id"])})
        if bad:
            problems.append(f"participant ids not of the form {case.id_pattern}: {bad[:5]}")
    assert not problems, _shown(problems)


@pytest.mark.parametrize("name, mode", case_params(lambda c: bool(c.quarantine)))
def test_ambiguous_values_are_quarantined_with_a_reason(runs, name, mode):
    """What cannot be read without a guess is in the quarantine, at its line, with its reason."""
    run, case = runs.get(name, mode), BY_NAME[name]
    if run.code == 2 and case.expect == "either":
        return
    _cleaned(run)
    problems = []
    for spec in case.quarantine:
        at_line = [
            q
            for q in run.quarantine
            if q["source_file"] == spec["source_file"] and int(float(q["source_line"])) == spec["source_line"]
        ]
        ok = [
            q
            for q in at_line
            if (spec.get("reason") is None or q["reason"] == spec["reason"])
            and (not spec.get("action") or q["action"] == spec["action"])
            and (not spec.get("column") or spec["column"].lower() in q["column"].lower())
            and q["reason"]
        ]
        if not ok:
            held = [(q["column"], q["reason"], q["action"]) for q in at_line] or "nothing"
            problems.append(f"{spec['source_file']}:{spec['source_line']} expected {spec}, the quarantine holds {held}")
    assert not problems, _shown(problems)


# -- both modes ---------------------------------------------------------------------------------


def _table_rows(run) -> tuple[set[str], Counter]:
    cols, rows = run.clean
    order = sorted(cols)
    return set(cols), Counter(tuple(r[c] for c in order) for r in rows)


def _quarantine_entries(run) -> Counter:
    keys = ("source_file", "source_line", "column", "reason", "action")
    return Counter(tuple(str(int(float(q[k]))) if k == "source_line" else q[k] for k in keys) for q in run.quarantine)


@pytest.mark.parametrize("name", case_params(lambda c: set(c.modes) == {"mem", "ooc"}, modes=False))
def test_in_memory_and_out_of_core_give_the_same_outcome(runs, name):
    """Same exit code, same clean rows, same quarantine entries, same row accounting."""
    mem, ooc = runs.get(name, "mem"), runs.get(name, "ooc")
    codes, shown = (mem.code, ooc.code), f"in memory: {mem.describe()}\nout of core: {ooc.describe()}"
    assert codes[0] == codes[1], shown
    if mem.code != 0:
        return
    problems = []
    (cm, rm), (co, ro) = _table_rows(mem), _table_rows(ooc)
    if cm != co and rm and ro:
        problems.append(f"columns only in memory: {sorted(cm - co)}; only out of core: {sorted(co - cm)}")
    elif rm != ro:
        problems.append(f"{sum((rm - ro).values())} rows only in memory, {sum((ro - rm).values())} only out of core")
        problems += [f"in memory only: {r}" for r in list((rm - ro).elements())[:3]]
        problems += [f"out of core only: {r}" for r in list((ro - rm).elements())[:3]]
    qm, qo = _quarantine_entries(mem), _quarantine_entries(ooc)
    if qm != qo:
        problems += [f"quarantine in memory only: {e}" for e in list((qm - qo).elements())[:4]]
        problems += [f"quarantine out of core only: {e}" for e in list((qo - qm).elements())[:4]]
    for key in ("in", "clean", "quarantined", "duplicates_removed"):
        if mem.log["rows"].get(key) != ooc.log["rows"].get(key):
            problems.append(f"rows.{key}: {mem.log['rows'].get(key)} in memory, {ooc.log['rows'].get(key)} out of core")
    for key in ("duplicate_lines", "combined_lines"):
        if sorted(mem.log["rows"].get(key, [])) != sorted(ooc.log["rows"].get(key, [])):
            problems.append(f"rows.{key} differ")
    assert not problems, _shown(problems)


# -- identifiers --------------------------------------------------------------------------------


def _normalised(text: str) -> str:
    return re.sub(r"[\s\u200b\ufeff]+", "", text).lower()


def _texts(run) -> list[tuple[str, str]]:
    """(where, normalised text) of every file the run wrote, and of what it printed."""
    import pandas as pd

    out = [("stdout", _normalised(run.result.stdout)), ("stderr", _normalised(run.result.stderr))]
    for path in run.output_files():
        rel = str(path.relative_to(run.dir))
        if path.suffix == ".parquet":
            text = pd.read_parquet(path).to_csv(index=False)
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
            if path.suffix == ".json":
                text += json.dumps(json.loads(text), ensure_ascii=False)
        out.append((rel, _normalised(text)))
    return out


@pytest.mark.parametrize("name, mode", case_params(lambda c: bool(c.planted or c.raw_ids)))
def test_no_identifier_reaches_any_output(runs, name, mode):
    """No planted name, phone, e-mail, date of birth or national id (nor, with --deidentify, a raw id)."""
    run, case = runs.get(name, mode), BY_NAME[name]
    needles = [*case.planted, *case.raw_ids]
    if "--salt-file" in case.args:
        needles.append((run.dir / case.args[case.args.index("--salt-file") + 1]).read_text().strip())
    found = [
        f"{needle!r} in {where}" for needle in needles for where, text in _texts(run) if _normalised(needle) in text
    ]
    assert not found, _shown(found)


# -- spreadsheet-safe CSV -----------------------------------------------------------------------


def _unsafe_cells(path) -> list[str]:
    bad = []
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            for j, cell in enumerate(row):
                if cell.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(cell):
                    bad.append(f"{path.name} row {i} column {j + 1}: {cell[:40]!r}")
    return bad


@pytest.mark.parametrize("name, mode", case_params())
def test_every_csv_written_is_spreadsheet_safe(runs, name, mode):
    """No cell of any CSV hipkit wrote (clean, quarantine, describe) starts like a formula."""
    run, case = runs.get(name, mode), BY_NAME[name]
    if run.code != 0:
        if case.formulas:
            pytest.fail(f"expected a clean run of the formula payloads: {run.describe()}")
        return
    csvs = [p for p in run.output_files() if p.suffix == ".csv"]
    if case.formulas:
        data = (
            run.outputs["out"]
            if mode == "mem"
            else next(iter(sorted((run.dir / run.outputs["out"]).rglob("*.parquet"))), None)
        )
        assert data is not None, "no clean rows to describe"
        described = run_in_process(["describe", "--data", str(data), "--out", f"describe-{mode}.csv"], run.dir)
        assert described.code == 0, f"hipkit describe: exit {described.code}: {described.stderr.strip()[-300:]}"
        csvs.append(run.dir / f"describe-{mode}.csv")
    bad = [cell for p in csvs for cell in _unsafe_cells(p)]
    assert not bad, _shown(bad)


# -- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mode", case_params(lambda c: c.encoding is not None))
def test_encoding_is_recorded_with_a_confidence(runs, name, mode):
    """The log names each text input's encoding and a 0-1 confidence, and warns when it is low."""
    run, case = runs.get(name, mode), BY_NAME[name]
    _cleaned(run)
    spec = case.encoding
    entry = next((i for i in run.log["inputs"] if i.get("file") == spec["file"]), None)
    assert entry is not None, f"no log input entry for {spec['file']}: {[i.get('file') for i in run.log['inputs']]}"
    enc, conf = entry.get("encoding"), entry.get("encoding_confidence")
    assert enc, f"no encoding recorded: {entry}"
    if spec["accept"]:
        accepted = {codecs.lookup(a).name for a in spec["accept"]}
        assert codecs.lookup(enc).name in accepted, f"encoding {enc!r}, expected one of {sorted(accepted)}"
    assert isinstance(conf, (int, float)) and 0 <= conf <= 1, f"encoding_confidence {conf!r} is not a number in [0, 1]"
    if spec["low_confidence"]:
        warned = [w for w in run.log["warnings"] if spec["file"] in w and "encod" in w.lower()]
        assert warned, f"no encoding warning for {spec['file']} (confidence {conf}): {run.log['warnings']}"
