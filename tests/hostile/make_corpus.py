"""The hostile-input corpus: deterministic generators of the exports that attack hipkit's promises.

Run ``python tests/hostile/make_corpus.py OUTDIR`` to write every case to ``OUTDIR/<case>/`` with
``OUTDIR/manifest.json``; the tests in this folder build the same cases in memory
(:data:`CASES`) and write each one where they run it. Nothing is random at run time: every case
draws from its own ``random.Random`` seeded with the corpus seed and the case name, so adding a
case never changes another. What a case holds is described in ``corpus_base``; the classes are
listed in ``tests/hostile/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_base import CLASSES, SEED, ArgumentCase, Case, ReportCase  # noqa: E402
from corpus_loss import cases_record_loss  # noqa: E402
from corpus_more import (  # noqa: E402
    cases_config,
    cases_encodings,
    cases_exits,
    cases_identifiers,
    cases_injection,
    cases_resources,
)
from corpus_report import ARGUMENT_CASES, report_cases  # noqa: E402
from corpus_values import cases_values  # noqa: E402

__all__ = [
    "SEED",
    "CLASSES",
    "Case",
    "ReportCase",
    "ArgumentCase",
    "CASES",
    "REPORT_CASES",
    "ARGUMENT_CASES",
    "write_case",
    "write_corpus",
    "manifest",
]


def build_cases() -> list[Case]:
    cases = (
        cases_record_loss()
        + cases_values()
        + cases_identifiers()
        + cases_injection()
        + cases_resources()
        + cases_exits()
        + cases_config()
        + cases_encodings()
    )
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, dup
    return cases


CASES: list[Case] = build_cases()
REPORT_CASES: list[ReportCase] = report_cases()


# -- writing ------------------------------------------------------------------------------------


def _write_files(files: dict, dest: Path) -> dict[str, str]:
    shas = {}
    for rel, content in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/.keep") or path.name == ".keep":
            continue  # only the folder is wanted
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
        shas[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return shas


def write_case(case: Case | ReportCase, dest: Path) -> dict[str, str]:
    """Write the case's files (and links) under ``dest``; return the SHA-256 of each file."""
    dest.mkdir(parents=True, exist_ok=True)
    shas = _write_files(case.files, dest)
    for link, target, kind in getattr(case, "links", []):
        if kind == "symlink":
            (dest / link).symlink_to(target)
        else:
            (dest / link).hardlink_to(dest / target)
    return shas


def manifest(shas: dict[str, dict] | None = None) -> dict:
    """The corpus description: every case with what the generator knows about it."""
    shas = shas or {}
    return {
        "seed": SEED,
        "classes": CLASSES,
        "cases": [dict(c.to_manifest(), sha256=shas.get(c.name, {})) for c in CASES],
        "report_cases": [dict(c.to_manifest(), sha256=shas.get(c.name, {})) for c in REPORT_CASES],
        "argument_cases": [c.to_manifest() for c in ARGUMENT_CASES],
    }


def write_corpus(outdir: Path, only: list[str] | None = None) -> Path:
    """Write every case to ``outdir/<case>/`` and ``outdir/manifest.json``; return the manifest's path."""
    outdir.mkdir(parents=True, exist_ok=True)
    shas = {}
    for case in [*CASES, *REPORT_CASES]:
        if only and case.name not in only:
            continue
        shas[case.name] = write_case(case, outdir / case.name)
    path = outdir / "manifest.json"
    path.write_text(json.dumps(manifest(shas), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write the hostile-input corpus and its manifest.")
    p.add_argument("outdir", type=Path)
    p.add_argument("--only", nargs="+", metavar="CASE", help="write only these cases")
    args = p.parse_args(argv)
    path = write_corpus(args.outdir, args.only)
    print(f"wrote {len(CASES) + len(REPORT_CASES)} cases and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
