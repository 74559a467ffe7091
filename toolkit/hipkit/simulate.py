"""Seeded, calibrated cohort simulators. Every value they produce is SIMULATED, never patient data.

Each design holds the published figures of one study (group sizes, visit schedule, sides, effect
sizes) with their sources, and states every value that is not published as an assumption. The
data-generating process, for participant i at week t:

    true strength    S_it = s0_i + (g + u_i) t                      s0_i ~ N(mean_g, (cv_s mean_g)^2),
                                                                    u_i ~ N(0, sd_gain^2)
    measured         hip_abd_strength_n = S_it (x (1 - deficit_t) on the injured side) + e,
                     e ~ N(0, SEM^2) with the registry's SEM (Piva et al. 2006)
    pain (VAS, cm)   p0_i + c_g t + b_within (S_it - S_i0) + b_between (s0_i - mean_s0) + e_p
    function (AKPS/LEFS) likewise with their own baselines, trends and strength links
    every score is clipped to its registry range (floor and ceiling); visits after a dropout are
    missing.

So a participant's pain falls with time *and* with their own strength gain (the within-person
link), while between-person differences in strength carry their own (smaller) link: the
structure the replication notebooks set out to recover.

Examples
--------
>>> from hipkit.simulate import simulate
>>> cohort = simulate("ferber2011", seed=2011)
>>> cohort.data.groupby("group")["participant_id"].nunique().to_dict()
{'control': 10, 'pfps': 15}
>>> cohort.calibration().query("parameter == 'pfps.strength_gain_total'")["source"].str.contains("32").item()
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .io.outputs import atomic_path, write_text
from .registry import load_registry

__all__ = [
    "P",
    "GroupSpec",
    "Design",
    "SimulatedCohort",
    "DESIGNS",
    "simulate",
    "draw_groups",
    "GroupDraw",
    "write_dataset",
    "messy_export",
]

LIT = "docs/references.md"


@dataclass(frozen=True)
class P:
    """A calibration value with its source (a citation), or ``assumption: <why>`` when unpublished."""

    value: float
    source: str

    @property
    def kind(self) -> str:
        """``published``, ``derived`` (arithmetic on published figures) or ``assumption``."""
        return (
            "assumption"
            if self.source.startswith("assumption")
            else ("derived" if "[derived]" in self.source else "published")
        )


@dataclass(frozen=True)
class GroupSpec:
    """One group of a design; gains are totals over the programme (``weeks[-1]``)."""

    name: str
    n: int
    n_female: P
    strength_baseline: P  # N
    strength_gain_total: P  # fraction of baseline gained by the last visit
    pain_baseline: P  # cm VAS
    pain_change_total: P  # fraction of baseline pain lost by the last visit (time trend + strength link)
    function_baseline: P  # AKPS or LEFS points
    function_gain_total: P  # points


@dataclass(frozen=True)
class Design:
    """A study design with its calibration. ``function_measure`` is ``akps`` or ``lefs``."""

    name: str
    title: str
    citation: str
    groups: tuple[GroupSpec, ...]
    weeks: tuple[float, ...]
    sides: bool
    function_measure: str
    age: tuple[P, P, float, float]  # mean, sd, min, max
    body_mass: tuple[P, P]
    injured_deficit: P = P(0.0, "assumption: no side difference")  # fraction, at baseline
    deficit_resolves_week: float = 0.0
    dropout_per_visit: P = P(0.0, "assumption: no dropout")
    cv_strength: P = P(
        0.20,
        "assumption: between-person SD of baseline strength 20% of the mean "
        "(typical of HHD hip-abduction data; Alvarenga 2019 95% CI width implies ~18%)",
    )
    sd_gain: P = P(0.35, "assumption: between-person SD of the strength gain is 35% of the mean gain")
    sd_pain_between: P = P(1.3, "assumption: between-person SD of baseline VAS 1.3 cm")
    sd_pain_resid: P = P(0.6, "assumption: within-person residual SD of VAS 0.6 cm (Crossley 2004 ICC .49-.83)")
    within_share: P = P(0.5, "assumption: half of each participant's pain change follows their own strength gain")
    pain_between_per_10pct: P = P(
        0.15,
        "assumption: 10% stronger at baseline -> 0.15 cm less pain "
        "(10-16% strength difference with pain severity, pubmed 33631707)",
    )
    sd_function_between: P = P(8.0, "assumption: between-person SD of the function score 8 points")
    function_between_per_10pct: P = P(
        1.5, "assumption: 10% stronger at baseline -> function score 1.5 points higher (between persons)"
    )
    sd_function_resid: P = P(3.0, "assumption: residual SD of the function score 3 points")
    extra: dict = field(default_factory=dict)


def _ferber2011() -> Design:
    src = "Ferber, Kendall & Farr 2011, J Athl Train 46(2):142 (doi:10.4085/1062-6050-46.2.142)"
    control_strength = 0.1685 * 62 * 9.80665
    return Design(
        name="ferber2011",
        title="2011-like cohort: runners with PFPS and controls, 3-week hip-abductor protocol (SIMULATED)",
        citation=src,
        groups=(
            GroupSpec(
                "pfps",
                15,
                P(10, f"{src}: 5 men, 10 women"),
                P(
                    round(control_strength * (1 - 0.26), 1),
                    "derived from Alvarenga 2019 (16.85 %BW in healthy women) "
                    "x 62 kg, less the 26% PFP deficit of Ireland 2003 [derived]; the paper's values: not found",
                ),
                P(0.32, "S5 (secondary summary of Ferber 2011): 32% increase in hip strength; " + LIT),
                P(5.5, "assumption: baseline VAS 5.5 cm (not found in the 2011 text seen)"),
                P(0.40, "S4 quoting Ferber 2011: pain decreased 40% for 14 of 15 patients"),
                P(75.0, "assumption: AKPS 75 at baseline (not measured in 2011; typical PFP values)"),
                P(6.0, "assumption: AKPS +6 over 3 weeks"),
            ),
            GroupSpec(
                "control",
                10,
                P(6, f"{src}: 4 men, 6 women"),
                P(round(control_strength, 1), "derived: 16.85 %BW (Alvarenga 2019) x 62 kg x 9.81 [derived]"),
                P(0.0, "assumption: controls did not train"),
                P(0.3, "assumption: pain-free controls (VAS 0.3 cm)"),
                P(0.0, "assumption: no change"),
                P(98.0, "assumption: AKPS 98 in pain-free runners"),
                P(0.0, "assumption: no change"),
            ),
        ),
        weeks=(0.0, 3.0),
        sides=False,
        function_measure="akps",
        age=(P(25.0, "assumption: runners aged 25 (SD 5)"), P(5.0, "assumption"), 18.0, 45.0),
        body_mass=(P(62.0, "assumption: 62 kg (SD 9)"), P(9.0, "assumption")),
    )


def _beers2008() -> Design:
    src = "Beers et al. 2008, Physiother Can 60(2):180 (doi:10.3138/physio.60.2.180)"
    return Design(
        name="beers2008",
        title="2008-like cohort: iliotibial band friction syndrome, 6-week programme, both sides (SIMULATED)",
        citation=src,
        groups=(
            GroupSpec(
                "itbfs",
                16,
                P(11, f"{src}: 5 men, 11 women"),
                P(110.0, "assumption: uninjured-side strength 110 N (paper's values not found)"),
                P(0.25, "assumption: +25% over 6 weeks (Dolak 2011: +21% over 8 weeks)"),
                P(4.5, "assumption: VAS 4.5 cm"),
                P(0.5, "assumption: pain halves over 6 weeks"),
                P(55.0, "assumption: LEFS 55 (the 2008 function instrument is not verified; LEFS plausible)"),
                P(12.0, "assumption: LEFS +12 over 6 weeks (above its MCID of 9, Binkley 1999)"),
            ),
        ),
        weeks=(0.0, 2.0, 4.0, 6.0),
        sides=True,
        function_measure="lefs",
        age=(P(34.0, "assumption: mean age 34 (range 20-53 published)"), P(9.0, "assumption"), 20.0, 53.0),
        body_mass=(P(68.0, "assumption"), P(10.0, "assumption")),
        injured_deficit=P(0.20, "Fredericson 2000: injured 7.82 vs noninjured 9.82 %BW x height (20% deficit)"),
        function_between_per_10pct=P(
            5.0,
            "assumption: 10% stronger -> LEFS 5 points higher; Beers 2008 reports strength significantly related "
            "to function at weeks 2, 4 and 6 (r not found)",
        ),
        deficit_resolves_week=6.0,
        extra={"discharged_at_6_weeks": P(9, f"{src}: 9 of 16 discharged at 6 weeks")},
    )


def _ferber2015() -> Design:
    src = "Ferber et al. 2015, J Athl Train 50(4):366 (doi:10.4085/1062-6050-49.3.70)"
    return Design(
        name="ferber2015",
        title="2015-RCT-like cohort: hip and core vs knee strengthening for PFP, weekly VAS and AKPS (SIMULATED)",
        citation=src,
        groups=(
            GroupSpec(
                "HIP",
                111,
                P(74, f"{src}: 66.8% women of 199 [derived]"),
                P(100.0, "assumption: 100 N (baseline strength means not found)"),
                P(0.22, "assumption: +22% (HIP gained more than KNEE, P = .01; F2)"),
                P(5.0, "assumption: VAS 5.0 cm (means only in figures)"),
                P(0.55, "assumption: VAS down 55% by week 6 (both groups improved, P < .001)"),
                P(70.0, "assumption: AKPS 70"),
                P(12.0, "assumption: AKPS +12 (above the MCID of 10, Crossley 2004)"),
            ),
            GroupSpec(
                "KNEE",
                88,
                P(59, f"{src}: 66.8% women of 199 [derived]"),
                P(100.0, "assumption: 100 N"),
                P(0.12, "assumption: +12% (less than HIP; F2 P = .01)"),
                P(5.0, "assumption: VAS 5.0 cm"),
                P(0.50, "assumption: VAS down 50%; HIP reduced it 1 week earlier (F2)"),
                P(70.0, "assumption: AKPS 70"),
                P(11.0, "assumption: AKPS +11"),
            ),
        ),
        weeks=tuple(float(w) for w in range(7)),
        sides=False,
        function_measure="akps",
        age=(P(29.0, f"{src}: age 29.0 (SD 7.1)"), P(7.1, src), 18.0, 45.0),
        body_mass=(P(67.6, f"{src}: 67.6 kg (SD 13.5)"), P(13.5, src)),
        dropout_per_visit=P(0.015, "assumption: 1.5% lost per weekly visit"),
    )


def _clinic() -> Design:
    return Design(
        name="clinic_multisite",
        title="Multi-site clinic cohort, 6-week programme, visits every 2 weeks (SIMULATED)",
        citation="calibrated loosely to Ferber 2015 (design) and the registry MCIDs; a made-up clinic",
        groups=(
            GroupSpec(
                "HIP",
                1200,
                P(800, "assumption: two thirds women (Ferber 2015: 66.8%)"),
                P(100.0, "assumption"),
                P(0.20, "assumption"),
                P(5.2, "assumption"),
                P(0.45, "assumption"),
                P(68.0, "assumption: AKPS 68"),
                P(10.0, "assumption"),
            ),
            GroupSpec(
                "KNEE",
                800,
                P(533, "assumption: two thirds women"),
                P(100.0, "assumption"),
                P(0.10, "assumption"),
                P(5.2, "assumption"),
                P(0.40, "assumption"),
                P(68.0, "assumption"),
                P(9.0, "assumption"),
            ),
        ),
        weeks=(0.0, 2.0, 4.0, 6.0),
        sides=True,
        function_measure="akps",
        age=(P(32.0, "assumption"), P(10.0, "assumption"), 16.0, 70.0),
        body_mass=(P(70.0, "assumption"), P(13.0, "assumption")),
        injured_deficit=P(0.15, "assumption: 15% involved-side deficit (LSI 71-79% vs 93-101%, Robinson & Nee 2007)"),
        deficit_resolves_week=8.0,
        dropout_per_visit=P(0.06, "assumption: 6% lost per visit"),
        extra={"sites": ["North", "Central", "South"]},
    )


DESIGNS = {"ferber2011": _ferber2011, "beers2008": _beers2008, "ferber2015": _ferber2015, "clinic_multisite": _clinic}


@dataclass
class SimulatedCohort:
    """A simulated cohort: the canonical long table plus the design and seed that made it."""

    data: pd.DataFrame
    design: Design
    seed: int

    def calibration(self) -> pd.DataFrame:
        """Every calibration value with its source and kind.

        ``published`` (in the simulated study's own paper), ``literature`` (published by another
        study), ``derived`` (arithmetic on published figures) or ``assumption``.
        """
        rows = []

        d = self.design
        study = d.citation.split()[0].rstrip(",")  # first author of the design's own paper

        def add(name, p):
            if isinstance(p, P):
                kind = p.kind
                if kind == "published" and study not in p.source:
                    kind = "literature"  # published, but by another study than the one simulated
                rows.append({"parameter": name, "value": p.value, "kind": kind, "source": p.source})

        for g in d.groups:
            for k, v in asdict(g).items():
                if isinstance(v, dict):
                    add(f"{g.name}.{k}", P(**v))
            add(
                f"{g.name}.n",
                P(
                    g.n,
                    d.citation if d.name != "clinic_multisite" else "assumption: a made-up clinic of 2,000 patients",
                ),
            )
        for k in (
            "injured_deficit",
            "dropout_per_visit",
            "cv_strength",
            "sd_gain",
            "sd_pain_between",
            "sd_pain_resid",
            "within_share",
            "pain_between_per_10pct",
            "sd_function_between",
            "function_between_per_10pct",
            "sd_function_resid",
        ):
            add(k, getattr(d, k))
        add("age_mean", d.age[0])
        add("age_sd", d.age[1])
        add("body_mass_mean", d.body_mass[0])
        add("body_mass_sd", d.body_mass[1])
        reg = load_registry()
        add("strength_sem_n", P(reg["hip_abd_strength_n"].sem, reg["hip_abd_strength_n"].sem_source))
        for k, v in d.extra.items():
            add(k, v)
        return pd.DataFrame(rows)

    def call(self) -> str:
        """The Python call that recreates this cohort bit for bit."""
        return f"hipkit.simulate.simulate({self.design.name!r}, seed={self.seed})"


@dataclass(frozen=True, eq=False)
class GroupDraw:
    """The random draws of one group of a simulated cohort, as arrays (no table built).

    ``pain[k]``, ``function[k]`` are the unclipped, unrounded scores at visit ``k`` (length ``n``);
    ``strength[k]`` the measured strength before rounding, shape ``(n,)``, or ``(2, n)`` (left,
    right) for a design with sides. ``last`` is each participant's last visit index (dropout).
    :func:`simulate` builds its table from these, so a caller that needs only arrays (the power
    replicates) gets the same numbers bit for bit without pandas.
    """

    female: np.ndarray
    age: np.ndarray
    mass: np.ndarray
    last: np.ndarray
    affected: np.ndarray
    pain: list
    function: list
    strength: list


def draw_groups(d: Design, rng: np.random.Generator) -> list[GroupDraw]:
    """Draw every group of design ``d`` from ``rng`` in :func:`simulate`'s order (one ``GroupDraw`` each).

    Parameters
    ----------
    d : Design
        The design, already resized.
    rng : numpy.random.Generator
        Consumed exactly as :func:`simulate` consumes it (the site draw, if any, comes after).

    Returns
    -------
    list of GroupDraw
    """
    sem = load_registry()["hip_abd_strength_n"].sem
    weeks = np.asarray(d.weeks, dtype=float)
    T = weeks[-1]
    out = []
    for g in d.groups:
        n = g.n
        female = np.zeros(n, dtype=bool)
        female[rng.permutation(n)[: int(round(g.n_female.value * n / max(g.n, 1)))]] = True
        age = np.clip(rng.normal(d.age[0].value, d.age[1].value, n), d.age[2], d.age[3]).round(0)
        mass = np.clip(rng.normal(d.body_mass[0].value, d.body_mass[1].value, n) - 8 * female, 40, 140).round(1)
        s0 = g.strength_baseline.value * (1 + d.cv_strength.value * rng.standard_normal(n))
        s0 = np.maximum(s0, 20.0)
        gain_total = g.strength_gain_total.value * s0 * (1 + d.sd_gain.value * rng.standard_normal(n))
        p0 = g.pain_baseline.value + d.sd_pain_between.value * rng.standard_normal(n)
        p0 = p0 - d.pain_between_per_10pct.value * 10 * (s0 / g.strength_baseline.value - 1)
        f0 = g.function_baseline.value + d.sd_function_between.value * rng.standard_normal(n)
        f0 = f0 + d.function_between_per_10pct.value * 10 * (s0 / g.strength_baseline.value - 1)
        pain_drop = g.pain_change_total.value * g.pain_baseline.value  # cm over the programme (mean)
        mean_gain = max(g.strength_gain_total.value * g.strength_baseline.value, 1e-9)
        b_within = d.within_share.value * pain_drop / mean_gain if g.strength_gain_total.value > 0 else 0.0
        time_slope = (
            -(1 - d.within_share.value) * pain_drop / T if g.strength_gain_total.value > 0 else (-pain_drop / T)
        )
        f_within = d.within_share.value * g.function_gain_total.value / mean_gain if g.strength_gain_total.value else 0
        f_slope = ((1 - d.within_share.value) if g.strength_gain_total.value else 1) * g.function_gain_total.value / T
        last = np.full(n, len(weeks) - 1)
        if d.dropout_per_visit.value > 0:
            for k in range(1, len(weeks)):
                drop = (rng.random(n) < d.dropout_per_visit.value) & (last >= k)
                last[drop] = k - 1
        affected = np.where(rng.random(n) < 0.5, "left", "right")
        pain, func, strength = [], [], []
        for w in weeks:
            true_s = s0 + gain_total * (w / T)
            pain.append(p0 + time_slope * w - b_within * (true_s - s0) + d.sd_pain_resid.value * rng.standard_normal(n))
            func.append(
                f0 + f_slope * w + f_within * (true_s - s0) + d.sd_function_resid.value * rng.standard_normal(n)
            )
            if d.sides:
                deficit = d.injured_deficit.value * max(0.0, 1 - w / d.deficit_resolves_week)
                strength.append(
                    np.stack(
                        [
                            true_s * np.where(affected == side, 1 - deficit, 1.0) + sem * rng.standard_normal(n)
                            for side in ("left", "right")
                        ]
                    )
                )
            else:
                strength.append(true_s + sem * rng.standard_normal(n))
        out.append(GroupDraw(female, age, mass, last, affected, pain, func, strength))
    return out


def simulate(design: str | Design, seed: int = 0, n_scale: float = 1.0) -> SimulatedCohort:
    """Simulate a cohort from a calibrated design (see the module docstring for the process).

    Parameters
    ----------
    design : str or Design
        ``"ferber2011"``, ``"beers2008"``, ``"ferber2015"``, ``"clinic_multisite"`` or a :class:`Design`.
    seed : int
        Seed of numpy's default generator: the same seed gives the same table, bit for bit.
    n_scale : float, default 1
        Multiply every group's size (for power analyses); 1 keeps the published sizes.

    Returns
    -------
    SimulatedCohort
        ``.data`` (canonical long table, one row per participant x visit (x side)),
        ``.calibration()`` and ``.call()``.
    """
    d = DESIGNS[design]() if isinstance(design, str) else design
    if n_scale != 1.0:
        d = replace(d, groups=tuple(replace(g, n=max(2, int(round(g.n * n_scale)))) for g in d.groups))
    rng = np.random.default_rng(seed)
    weeks = np.asarray(d.weeks, dtype=float)
    fmeasure = load_registry()[d.function_measure]
    parts = []
    pid0 = 0
    for g, dr in zip(d.groups, draw_groups(d, rng)):
        n = g.n
        ids = [f"S{pid0 + i + 1:04d}" for i in range(n)]
        pid0 += n
        rows = []
        for k, w in enumerate(weeks):
            present = dr.last >= k
            base = {
                "participant_id": ids,
                "group": g.name,
                "sex": np.where(dr.female, "female", "male"),
                "age_years": dr.age,
                "body_mass_kg": dr.mass,
                "visit_week": w,
                "pain_vas": np.clip(dr.pain[k], 0, 10).round(1),
                d.function_measure: np.clip(dr.function[k], *fmeasure.range).round(0),
            }
            if d.sides:
                for j, side in enumerate(("left", "right")):
                    involved = dr.affected == side
                    frame = pd.DataFrame(
                        {
                            **base,
                            "side": side,
                            "limb": np.where(involved, "involved", "uninvolved"),
                            "affected_side": dr.affected,
                            "hip_abd_strength_n": np.maximum(dr.strength[k][j], 1).round(1),
                        }
                    )
                    rows.append(frame[present])
            else:
                frame = pd.DataFrame({**base, "hip_abd_strength_n": np.maximum(dr.strength[k], 1).round(1)})
                rows.append(frame[present])
        parts.append(pd.concat(rows, ignore_index=True))
    data = pd.concat(parts, ignore_index=True)
    if "sites" in d.extra:
        sites = np.asarray(d.extra["sites"])
        site_of = dict(
            zip(data["participant_id"].unique(), sites[rng.integers(0, len(sites), data["participant_id"].nunique())])
        )
        data.insert(1, "site", data["participant_id"].map(site_of))
    data["hip_abd_strength_nkg"] = (data["hip_abd_strength_n"] / data["body_mass_kg"]).round(4)
    sort = ["participant_id", "visit_week"] + (["side"] if d.sides else [])
    data = data.sort_values(sort, kind="stable").reset_index(drop=True)
    return SimulatedCohort(data=data, design=d, seed=seed)


_FIELD_INFO = {
    "participant_id": ("string", None, "simulated participant code"),
    "site": ("string", None, "clinic site"),
    "group": ("string", None, "programme group"),
    "sex": ("string", None, "female or male"),
    "age_years": ("number", "years", "age at baseline"),
    "body_mass_kg": ("number", "kg", "body mass"),
    "visit_week": ("number", "weeks", "scheduled visit (0 = baseline)"),
    "side": ("string", None, "limb tested"),
    "limb": ("string", None, "involved or uninvolved limb"),
    "affected_side": ("string", None, "the participant's injured side"),
}


def write_dataset(name: str, root: str | Path = "datasets", seed: int | None = None) -> Path:
    """Simulate ``name`` and write ``root/<name>/data.csv`` with a Frictionless ``datapackage.json``.

    The package records the schema with units, the licence, the provenance ("simulated;
    calibrated to <citation>"), every calibration value with its source, and the generator call.
    """
    seeds = {"ferber2011": 2011, "beers2008": 2008, "ferber2015": 2015, "clinic_multisite": 4242}
    seed = seeds.get(name, 0) if seed is None else seed
    cohort = simulate(name, seed=seed)
    out = Path(root) / name
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "data.csv"
    with atomic_path(csv) as tmp:
        cohort.data.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")
    reg = load_registry()
    fields = []
    for col in cohort.data.columns:
        if col in reg:
            m = reg[col]
            fields.append(
                {
                    "name": col,
                    "type": "number",
                    "unit": m.unit,
                    "description": m.label,
                    "constraints": {"minimum": m.range[0], "maximum": m.range[1]},
                }
            )
        else:
            t, unit, desc = _FIELD_INFO.get(col, ("string", None, col))
            f = {"name": col, "type": t, "description": desc}
            if unit:
                f["unit"] = unit
            fields.append(f)
    package = {
        "profile": "tabular-data-package",
        "name": name.replace("_", "-"),
        "title": cohort.design.title,
        "description": "SIMULATED data: no real participant is in this file. Generated by hipkit.simulate from "
        "published figures, with every unpublished value stated as an assumption below.",
        "licenses": [
            {
                "name": "CC0-1.0",
                "title": "Creative Commons Zero v1.0 Universal",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/",
            }
        ],
        "provenance": f"simulated; calibrated to {cohort.design.citation}",
        "sources": [{"title": cohort.design.citation}, {"title": "docs/references.md (hipkit)"}],
        "generator": {
            "call": cohort.call(),
            "hipkit_module": "hipkit.simulate",
            "command": f"python -m hipkit.simulate {name} --root {root}",
        },
        "calibration": json.loads(cohort.calibration().to_json(orient="records")),
        "resources": [
            {
                "name": "data",
                "path": "data.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "encoding": "utf-8",
                "hash": "sha256:" + hashlib.sha256(csv.read_bytes()).hexdigest(),
                "schema": {"fields": fields},
            }
        ],
    }
    write_text(out / "datapackage.json", json.dumps(package, indent=2) + "\n")
    return out


def messy_export(data: pd.DataFrame, seed: int = 0, bad_fraction: float = 0.01) -> pd.DataFrame:
    """Turn a clean simulated table into a messy clinic export (for cleaning demonstrations).

    Headers as clinics write them, strength in mixed units with a unit column, VAS in mm, visit
    labels instead of weeks, ids with stray spaces, missing-value tokens, and ``bad_fraction`` of
    rows with problems (text in numbers, impossible values, unknown visit labels, exact duplicates).
    """
    rng = np.random.default_rng(seed)
    n = len(data)
    labels = {0.0: "Baseline", 2.0: "Week 2", 4.0: "wk4", 6.0: "6 weeks"}
    unit = rng.choice(["N", "kg", "lb"], size=n, p=[0.5, 0.3, 0.2])
    strength = load_registry()["hip_abd_strength_n"]  # unit factors from the registry, never re-typed
    factor = np.select([unit == "kg", unit == "lb"], [strength.factor("kg"), strength.factor("lb")], 1.0)
    out = pd.DataFrame(
        {
            "Patient ID": [f" {p.lower()}" if rng.random() < 0.02 else p for p in data["participant_id"]],
            "Site": data.get("site", ""),
            "Group": data["group"].where(rng.random(n) > 0.05, data["group"].str.lower()),
            "Sex": data["sex"].map({"female": "F", "male": "M"}),
            "Age": data["age_years"],
            "Weight (kg)": data["body_mass_kg"],
            "Visit": data["visit_week"].map(labels).fillna(data["visit_week"].astype(str)),
            "Side": data["side"].map({"left": "L", "right": "R"}) if "side" in data else "",
            "Injured side": data.get("affected_side", ""),
            "HHD abduction": (data["hip_abd_strength_n"] / factor).round(1).astype(str),
            "HHD abduction unit": unit,
            "VAS (mm)": (data["pain_vas"] * 10).round(0).astype("Int64").astype(str),
            "AKPS": data["akps"].astype("Int64").astype(str) if "akps" in data else "",
        }
    )
    bad = rng.random(n) < bad_fraction
    kinds = rng.integers(0, 4, n)
    out.loc[bad & (kinds == 0), "HHD abduction"] = "n/a"
    out.loc[bad & (kinds == 1), "VAS (mm)"] = "150"
    out.loc[bad & (kinds == 2), "Visit"] = "follow-up?"
    dup = out[bad & (kinds == 3)]
    return pd.concat([out, dup], ignore_index=True)


def main(argv=None) -> int:
    """``python -m hipkit.simulate NAME [--root datasets]``: (re)write a bundled simulated dataset."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m hipkit.simulate")
    ap.add_argument("names", nargs="*", default=list(DESIGNS))
    ap.add_argument("--root", default="datasets")
    args = ap.parse_args(argv)
    for name in args.names:
        print(write_dataset(name, args.root))
    if "clinic_multisite" in args.names:
        cohort = simulate("clinic_multisite", seed=4242)
        raw = Path(args.root) / "raw" / "clinic_multisite_export.csv"
        raw.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(raw) as tmp:  # a raw fixture: written as it is (formula-like cells and all)
            messy_export(cohort.data, seed=4243).to_csv(tmp, index=False, lineterminator="\n")
        print(raw)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
