"""Disclosure control over the whole report: no hidden count is recoverable by sums and differences.

Generated cohorts (SIMULATED: hipkit's clinic_multisite design, cut down at random to small groups,
small third programmes, dropout and missing measures) are reported, in-process through the same
ledger the template uses, and a few as real HTML through ``hipkit report``. A brute-force search
(independent of the ledger's linear-algebra test) then tries every sum and difference of up to
three published counts: if the patients (legs, records) they add up to are exactly those of a
hidden count, that count is recoverable. The search must find nothing.
"""

from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hipkit.cli import main
from hipkit.errors import InputError
from hipkit.report import clinic as C
from hipkit.report.disclosure import PRIMARY, Count, Disclosure
from hipkit.simulate import simulate

N_IN_PROCESS = 30
N_HTML = 3  # generated reports searched: N_IN_PROCESS + N_HTML = 33


def _cohort(seed: int, path: Path) -> tuple[Path, int]:
    """A small SIMULATED clean table with small groups, a small third programme and dropout."""
    rng = np.random.default_rng(seed)
    data = simulate("clinic_multisite", seed=seed, n_scale=0.02).data  # 24 HIP + 16 KNEE
    ids = {g: sorted(data.loc[data["group"] == g, "participant_id"].unique()) for g in ("HIP", "KNEE")}
    keep = list(rng.choice(ids["HIP"], size=int(rng.integers(3, 16)), replace=False))
    keep += list(rng.choice(ids["KNEE"], size=int(rng.integers(1, 9)), replace=False))
    data = data.loc[data["participant_id"].isin(keep)].copy()
    if rng.random() < 0.6:  # a third, tiny programme
        few = rng.choice(sorted(set(keep)), size=int(rng.integers(1, 4)), replace=False)
        data.loc[data["participant_id"].isin(few), "group"] = "HIP+KNEE"
    # Extra dropout, and missing measures at random visits.
    visits = data[["participant_id", "visit_week"]].drop_duplicates()
    drop = visits.loc[(visits["visit_week"] > 0) & (rng.random(len(visits)) < 0.15)]
    data = data.merge(drop.assign(_drop=True), on=["participant_id", "visit_week"], how="left")
    data = data.loc[data["_drop"].isna()].drop(columns="_drop")
    for column in ("pain_vas", "akps"):
        data.loc[rng.random(len(data)) < 0.08, column] = np.nan
    if rng.random() < 0.5:
        data["discharge_reason"] = np.where(rng.random(len(data)) < 0.1, "moved away", None)
    min_cell = int(rng.choice([3, 5]))
    out = path / f"cohort_{seed}.csv"
    data.to_csv(out, index=False)
    return out, min_cell


def _build(path: Path, min_cell: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cd = C.load_clinic_data(path)
        measures = C.outcome_measures(cd.data)
        ledger = Disclosure(min_cell)
        tables = C.register_report(cd, ledger, measures)
        C.cleaning_counts(cd, ledger)
        C.quarantine_counts(cd, ledger)
        ledger.resolve()
    return cd, ledger, tables


def _vectors(ledger: Disclosure, audit: pd.DataFrame, universe: str) -> tuple[np.ndarray, list]:
    rows = audit.loc[(audit["universe"] == universe) & audit["key"].map(lambda k: ledger.members(k) is not None)]
    size = max((int(ledger.members(k).max()) + 1 for k in rows["key"] if len(ledger.members(k))), default=0)
    vec = np.zeros((len(rows), size), dtype=np.int64)
    for i, key in enumerate(rows["key"]):
        vec[i, ledger.members(key)] = 1
    return vec, list(rows.index)


def recoverable(ledger: Disclosure, published_keys=None) -> list[tuple]:
    """Every (hidden key, combination) where +-a +-b +-c of published counts has the hidden count's members.

    Brute force over all subsets of one to three published counts (with signs) in each universe;
    ``published_keys`` restricts the published counts (to those found in an HTML page).
    """
    audit = ledger.audit()
    found = []
    for universe in audit["universe"].unique():
        vec, idx = _vectors(ledger, audit, universe)
        if not len(idx):
            continue
        sub = audit.loc[idx].reset_index(drop=True)
        shown = (sub["status"] == "shown") & sub["published"] & (sub["value"] > 0)
        if published_keys is not None:
            shown &= sub["key"].isin(published_keys)
        targets = sub.index[(sub["reason"] == PRIMARY)].tolist()
        pub = sub.index[shown].tolist()
        if not targets or not pub:
            continue
        table = {vec[j].tobytes(): j for j in pub}
        target_set = {vec[t].tobytes(): t for t in targets}
        # singles and pairs by enumeration, triples by looking the third up: h - (+-a +-b) = +-c.
        for j in pub:
            if vec[j].tobytes() in target_set:
                found.append((sub.at[target_set[vec[j].tobytes()], "key"], (sub.at[j, "key"],)))
        for a, b in itertools.combinations(pub, 2):
            for sa, sb in ((1, 1), (1, -1), (-1, 1)):
                combo = sa * vec[a] + sb * vec[b]
                if combo.tobytes() in target_set:
                    found.append((sub.at[target_set[combo.tobytes()], "key"], (sub.at[a, "key"], sub.at[b, "key"])))
                for t in targets:
                    for sign in (1, -1):
                        rest = sign * (vec[t] - combo)
                        j = table.get(rest.tobytes())
                        if j is not None and j not in (a, b):
                            found.append((sub.at[t, "key"], (sub.at[a, "key"], sub.at[b, "key"], sub.at[j, "key"])))
    return found


_BUILT: dict = {}


def _built(seed: int, tmp_path_factory):
    """Each in-process cohort built once per session (two tests read it)."""
    if seed not in _BUILT:
        path, min_cell = _cohort(seed, tmp_path_factory.mktemp(f"cohort{seed}"))
        _BUILT[seed] = (min_cell, *_build(path, min_cell))
    return _BUILT[seed]


def _hidden_count(ledger: Disclosure) -> int:
    audit = ledger.audit()
    return int((audit["reason"] == PRIMARY).sum())


@pytest.mark.parametrize("seed", range(N_IN_PROCESS))
def test_no_hidden_count_is_a_sum_or_difference_of_published_counts(seed, tmp_path_factory):
    min_cell, _, ledger, tables = _built(seed, tmp_path_factory)
    assert recoverable(ledger) == []
    shown = C.publish(ledger, tables)
    # Every count shown as a number is 0 or at least min_cell.
    for name in ("flow", "means", "change", "responders", "mdc", "data_quality", "relation", "sex"):
        frame = shown.get(name)
        if isinstance(frame, pd.DataFrame):
            for column in frame.columns:
                counts = [v for v in tables[name][column] if isinstance(v, Count)]
                values = [ledger.show(c) for c in counts]
                assert not [v for v in values if isinstance(v, (int, np.integer)) and 0 < v < min_cell], (name, column)


def test_the_generated_cohorts_do_hide_counts_and_need_complementary_suppression(tmp_path_factory):
    hidden = complementary = 0
    for seed in range(N_IN_PROCESS):
        _, _, ledger, _ = _built(seed, tmp_path_factory)
        audit = ledger.audit()
        hidden += int((audit["reason"] == PRIMARY).sum())
        complementary += int((audit["reason"] == "complementary").sum())
    assert hidden > 5 * N_IN_PROCESS and complementary > N_IN_PROCESS


def test_without_complementary_suppression_the_search_finds_the_differencing_attack():
    # The example: 15 patients, 12 in one group, so the other group's "<5" is 3.
    ledger = Disclosure(5)
    ledger.count(("enrolled", "all"), members=np.arange(15))
    ledger.count(("enrolled", "HIP"), members=np.arange(12))
    ledger.count(("enrolled", "KNEE"), members=np.arange(12, 15))
    ledger.resolve()
    for entry in ledger._entries.values():  # undo complementary suppression by hand
        if entry.reason == "complementary":
            entry.status, entry.reason = "shown", ""
    assert recoverable(ledger) == [(("enrolled", "KNEE"), (("enrolled", "all"), ("enrolled", "HIP")))]


def _visible_numbers(html: str) -> set[int]:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    text = re.sub(r"<[^>]+>", " ", html)
    return {int(x) for x in re.findall(r"(?<![\d.])\d+(?![\d.])", text)}


@pytest.mark.parametrize("seed", range(100, 100 + N_HTML))
def test_html_report_numbers_reveal_no_hidden_count(seed, tmp_path, capsys):
    path, min_cell = _cohort(seed, tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", str(path), "--out", str(out), "--min-cell", str(min_cell)]) == 0
    html = out.read_text(encoding="utf-8")
    numbers = _visible_numbers(html)
    _, ledger, _ = _build(path, min_cell)  # the same data through the same ledger: which sets the numbers count
    audit = ledger.audit()
    shown = audit.loc[(audit["status"] == "shown") & audit["published"] & (audit["value"] >= min_cell)]
    # The page shows the ledger's published counts (so the search below is over what a reader sees) ...
    assert set(shown["value"]) <= numbers
    # ... and no hidden count can be rebuilt from any published count whose number is on the page.
    on_page = set(shown.loc[shown["value"].isin(numbers), "key"])
    assert recoverable(ledger, on_page) == []
    assert _hidden_count(ledger) > 0


@pytest.mark.parametrize("value", [-1, 2.7, True, "3", float("inf"), None])
def test_a_count_must_be_a_whole_number_of_units(value):
    d = Disclosure(min_cell=5)
    with pytest.raises(InputError):
        d.count(("x",), value=value)


@pytest.mark.parametrize("min_cell", [0, 4.5, True, "5", -2])
def test_min_cell_must_be_a_whole_number_of_at_least_one(min_cell):
    with pytest.raises(InputError):
        Disclosure(min_cell=min_cell)


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_a_missing_member_is_refused_not_counted_as_a_person(missing):
    d = Disclosure(min_cell=5)
    with pytest.raises(InputError, match="missing member"):
        d.count(("x",), members=["P1", "P2", missing])


def test_whole_floats_and_numpy_integers_are_accepted_as_counts():
    d = Disclosure(min_cell=np.int64(5))
    assert d.count(("x",), value=7.0).value == 7 and d.count(("y",), value=np.int32(3)).value == 3
