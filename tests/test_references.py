"""The project's own references page holds every source hipkit cites (issue 14 item 8)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from hipkit.registry import load_registry
from hipkit.simulate import DESIGNS, simulate

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = (ROOT / "docs" / "references.md").read_text(encoding="utf-8")
_CITED = re.compile(
    r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?: [A-Z]{1,3})?(?: et al\.?| & [A-Z][a-z]+)?,? \(?((?:19|20)\d\d)\b"
)  # "Piva SR et al. 2006", "Fredericson 2000", "Robinson & Nee 2007": surname and year


def _tracked_text_files():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in out:
        p = ROOT / rel
        if p.suffix in {".py", ".md", ".yaml", ".yml", ".json", ".txt", ".cfg", ".toml"} and p.is_file():
            yield rel, p


def test_no_file_cites_a_document_outside_the_repository():
    outside = "shared/reference/" + "literature.md"  # spelled in two parts so that this file does not match
    bad = [rel for rel, p in _tracked_text_files() if outside in p.read_text(errors="ignore")]
    assert not bad, bad


def _sources() -> list[str]:
    out = []
    for m in load_registry():
        for attr in ("mcid_source", "mdc_source", "sem_source"):
            v = getattr(m, attr, None)
            if v:
                out.append(v)
    for name in DESIGNS:
        cal = simulate(name, seed=1).calibration()
        out += [s for s in cal["source"].dropna().astype(str)]
    return out


@pytest.mark.parametrize("source", sorted(set(_sources())))
def test_every_author_and_year_the_registry_and_the_simulations_cite_is_on_the_references_page(source):
    for author, year in _CITED.findall(source):
        if author in {"Derived", "See", "From", "Sem", "The"}:
            continue
        assert re.search(rf"\*\*[^*]*\b{author}\b[^*]*\({year}\)", REFERENCES), f"{author} {year} (cited as: {source})"
