"""Shared vocabulary of the hostile corpus: what a case is, and the clean cohort cases start from.

A :class:`Case` says what to run (``inputs``, ``args``), in which modes (``mem``: in memory,
``ooc``: out of core), what must happen (``expect``: ``clean`` = exit 0, ``refuse`` = exit 2,
``either`` = exit 0 or 2), and what the generator knows about the files it wrote:

``records``
    origin -> the physical lines where records start (the header is line 1; blank lines are not
    records; an Excel origin is ``book.xlsx!Sheet`` with sheet rows; a parquet line is row + 2).
``values``
    rows of the clean table that must exist, found by ``where`` (origin and line, or the key),
    with the canonical values they must hold.
``quarantine``
    entries the quarantine must hold (origin, line, reason; ``reason: None`` = any) when the run
    cleaned.
``planted`` / ``raw_ids``
    text that must not appear in any output (identifiers; raw ids under ``--deidentify``).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from hostile_formats import CsvDoc

SEED = 20240610

CLASSES = {
    1: "silent record loss",
    2: "wrong values",
    3: "identifier leaks",
    4: "injection",
    5: "resource exhaustion",
    6: "crashes on valid input and wrong exits",
    7: "configuration typos",
    8: "encodings",
}

SIDES = {"L": "left", "R": "right"}
LABELS = {0: "Baseline", 2: "Week 2", 4: "Week 4", 6: "Week 6"}
STD_HEADER = ["Participant ID", "Group", "Site", "Visit", "Visit date", "Side", "Strength (N)", "VAS (mm)"]
FORMULA_PAYLOADS = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-1+1", "\t=1", "=cmd|' /C calc'!A0"]

FileContent = bytes | Callable[[Path], None]


@dataclass
class Case:
    """One hostile input and what hipkit must do with it (see the module docstring)."""

    name: str
    klass: int
    title: str
    files: dict[str, FileContent]
    inputs: list[str]
    args: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    modes: tuple[str, ...] = ("mem", "ooc")
    expect: str = "clean"
    mentions: list[str] = field(default_factory=list)
    records: dict[str, list[int]] = field(default_factory=dict)
    wide: list[str] = field(default_factory=list)
    values: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    participants: list[str] | None = None
    id_pattern: str | None = None
    planted: list[str] = field(default_factory=list)
    raw_ids: list[str] = field(default_factory=list)
    formulas: bool = False
    encoding: dict | None = None
    resource: bool = False
    links: list[tuple[str, str, str]] = field(default_factory=list)
    readonly: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        assert self.expect in ("clean", "refuse", "either"), self.expect
        assert set(self.modes) <= {"mem", "ooc"}, self.modes

    @property
    def n_records(self) -> int:
        return sum(len(v) for v in self.records.values())

    def to_manifest(self) -> dict:
        d = asdict(self)
        d.pop("files")
        d["class"] = d.pop("klass")
        d["class_name"] = CLASSES[self.klass]
        d["n_records"] = self.n_records
        d["files"] = sorted(self.files)
        return d


@dataclass
class ReportCase:
    """A ``hipkit report`` run: its export, and what the HTML must (not) contain."""

    name: str
    klass: int
    title: str
    files: dict[str, bytes]
    inputs: list[str]
    args: list[str] = field(default_factory=list)
    expect: str = "clean"
    out: str = "report.html"
    forbidden: list[str] = field(default_factory=list)  # regexes that must not match the HTML
    required: list[str] = field(default_factory=list)  # regexes the visible text must match
    readonly: list[str] = field(default_factory=list)

    def to_manifest(self) -> dict:
        d = asdict(self)
        d["files"] = sorted(self.files)
        d["class"] = d.pop("klass")
        return d


@dataclass
class ArgumentCase:
    """``hipkit.clean`` called with one wrong argument (``"$INPUT"`` stands for a valid export)."""

    name: str
    kwargs: dict

    def to_manifest(self) -> dict:
        return {"name": self.name, "class": 6, "kwargs": {k: repr(v) for k, v in self.kwargs.items()}}


# -- building blocks ---------------------------------------------------------------------------


def rng_for(name: str) -> random.Random:
    """The case's own generator: the corpus seed and the case name, nothing else."""
    return random.Random(f"{SEED}:{name}")


@dataclass
class Visit:
    """One record of a long export: a participant's visit on one side."""

    pid: str
    group: str
    site: str
    week: float
    label: str
    date: str
    side: str
    strength: float
    vas_mm: int
    reason: str = ""

    def row(self) -> list[str]:
        return [self.pid, self.group, self.site, self.label, self.date, self.side, num(self.strength), str(self.vas_mm)]

    def expected(self, **extra) -> dict:
        vals = {
            "participant_id": self.pid.strip().upper(),
            "group": self.group,
            "site": self.site,
            "visit_week": self.week,
            "side": SIDES.get(self.side, self.side),
            "hip_abd_strength_n": self.strength,
            "pain_vas": self.vas_mm / 10,
        }
        vals.update(extra)
        return vals


def num(x: float) -> str:
    return f"{x:g}"


def cohort(
    rng: random.Random,
    n: int,
    weeks=(0, 2, 4, 6),
    sides=("L", "R"),
    id_fmt: str = "P{:03d}",
    groups=("HIP", "KNEE"),
    sites=("North", "South"),
    start: date = date(2024, 3, 4),
    first: int = 1,
) -> list[Visit]:
    """A clean long cohort: every participant at every visit on every side, dates on schedule."""
    out = []
    for i in range(n):
        pid = id_fmt.format(first + i)
        base = start + timedelta(days=i)
        for w in weeks:
            vas = rng.randint(0, 100)
            day = base + timedelta(days=int(round(7 * w)))
            for side in sides:
                out.append(
                    Visit(
                        pid,
                        groups[i % len(groups)],
                        sites[(i // 2) % len(sites)],
                        w,
                        LABELS.get(w, f"Week {w:g}"),
                        day.isoformat(),
                        side,
                        round(rng.uniform(80, 320), 1),
                        vas,
                    )
                )
    return out


def sheet_of(visits: list[Visit], header=STD_HEADER) -> list[list]:
    """The rows of a worksheet holding ``visits`` under ``header``."""
    return [header] + [v.row() for v in visits]


def where_line(origin: str, line: int, **extra) -> dict:
    return {"source_file": origin, "source_line": line, **extra}


def long_csv(
    visits: list[Visit],
    origin: str,
    doc: CsvDoc | None = None,
    header: list[str] = STD_HEADER,
    row: Callable[[Visit], list] = Visit.row,
    damage: dict[int, Callable[[CsvDoc, Visit], object]] | None = None,
) -> tuple[CsvDoc, list[int], list[dict]]:
    """Render ``visits`` as a long CSV; ``damage[i]`` writes record ``i`` its own way.

    Returns the document, the line of every record, and the expected clean values of the
    undamaged records.
    """
    doc = doc or CsvDoc()
    doc.add(header)
    lines, values = [], []
    for i, v in enumerate(visits):
        if damage and i in damage:
            line = damage[i](doc, v)
            if line is None:
                continue  # the damage wrote no record (e.g. a blank line)
            lines.append(line)
            continue
        line = doc.add(row(v))
        lines.append(line)
        values.append({"where": where_line(origin, line), "values": v.expected()})
    return doc, lines, values
