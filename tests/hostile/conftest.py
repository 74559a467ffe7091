"""Fixtures of the hostile-input tests: every (case, mode) is written and run once per session."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_corpus  # noqa: E402
from hostile_run import Run, execute  # noqa: E402

#: Resource-bomb runs go two at a time (each in its own limited subprocess), one per core.
RESOURCE_WORKERS = 2


class Runs:
    """Runs each (case, mode) the first time a test asks for it, and remembers the result."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[tuple[str, str], Run] = {}
        self.by_name = {c.name: c for c in make_corpus.CASES}

    def _run(self, name: str, mode: str) -> Run:
        return execute(self.by_name[name], mode, self.root / f"{name}-{mode}", make_corpus.write_case)

    def get(self, name: str, mode: str) -> Run:
        key = (name, mode)
        if key not in self.cache:
            if self.by_name[name].resource:
                self._run_all_resources()
            else:
                self.cache[key] = self._run(name, mode)
        return self.cache[key]

    def _run_all_resources(self) -> None:
        todo = [(c.name, m) for c in make_corpus.CASES if c.resource for m in c.modes]
        todo = [k for k in todo if k not in self.cache]
        with ThreadPoolExecutor(RESOURCE_WORKERS) as pool:
            for key, run in zip(todo, pool.map(lambda k: self._run(*k), todo)):
                self.cache[key] = run


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("hostile"))
