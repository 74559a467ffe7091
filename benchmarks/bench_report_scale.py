"""Benchmark of ``hipkit report`` at registry scale (run by hand; not a test).

What it does
------------
1. Generates (once; cached in the git-ignored ``benchmarks/_data/``) clean long exports with
   :func:`hipkit.simulate.simulate` (the ``clinic_multisite`` design scaled up: two programmes,
   three sites, weeks 0-6, both legs, 6% dropout per visit): by default 2,000,000 rows (about
   273,000 patients) and a 2,000-patient file. The generator runs in a child process.
2. Runs ``python -m hipkit.cli report FILE --out REPORT.html`` on each, in a fresh process, and
   samples every 0.1 s the summed resident memory (RSS) of that process *and all its
   descendants* (the report's notebook kernel is a child process) with psutil; the peak of that
   sum is the figure reported. Wall time is measured around the whole command.
3. Prints a table: rows, patients, seconds, peak RSS (GB), and whether the targets of issue 16
   are met (under 120 s and under 4 GB for the 2,000,000-row file).

Usage
-----
    .venv/bin/python benchmarks/bench_report_scale.py                 # 2,000,000 rows and 2,000 patients
    .venv/bin/python benchmarks/bench_report_scale.py --rows 200000   # quicker
    .venv/bin/python benchmarks/bench_report_scale.py --regenerate

Only the standard library and psutil are imported here (the data are made in a child process).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
TARGET_SECONDS = 120.0
TARGET_BYTES = 4_000_000_000  # "4 GB" read as 4e9 bytes
ROWS_PER_SCALE = 14_647  # rows per n_scale = 1 of the clinic_multisite design (2,000 patients), seed 1

GENERATE = """
import sys
from hipkit.simulate import simulate
scale, out = float(sys.argv[1]), sys.argv[2]
data = simulate("clinic_multisite", seed=1, n_scale=scale).data
data.to_csv(out, index=False)
print(len(data), data["participant_id"].nunique())
"""


def _env() -> dict:
    env = dict(os.environ)
    toolkit = str(HERE.parent / "toolkit")
    env["PYTHONPATH"] = toolkit + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def generate(scale: float, regenerate: bool) -> Path:
    """The cached clean export at ``scale`` times the 2,000-patient design."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"report_scale_{scale:g}.csv"
    if regenerate or not path.is_file():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", GENERATE, str(scale), str(path)], check=True, env=_env())  # noqa: S603
        print(f"generated {path.name} in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_report(path: Path) -> tuple[float, int, int, str]:
    """Seconds, peak summed RSS of the process tree (bytes), exit code and the last stderr line."""
    with tempfile.TemporaryDirectory(prefix="hipkit-bench-report-") as tmp:
        out = Path(tmp) / "report.html"
        cmd = [sys.executable, "-m", "hipkit.cli", "report", str(path), "--out", str(out)]
        peak = 0
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=_env(), cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
        ps = psutil.Process(proc.pid)
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                try:
                    peak = max(peak, _tree_rss(ps))
                except psutil.Error:
                    pass
                time.sleep(0.1)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, err = proc.communicate()
        seconds = time.perf_counter() - t
        done.set()
        th.join()
        last = (err.strip().splitlines() or [""])[-1]
        return seconds, peak, proc.returncode, last


def main(argv=None) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--regenerate", action="store_true")
    args = ap.parse_args(argv)
    results = []
    for scale in (1.0, args.rows / ROWS_PER_SCALE):
        path = generate(round(scale, 3), args.regenerate)
        with open(path, "rb") as fh:
            rows = sum(1 for _ in fh) - 1
        seconds, peak, code, last = run_report(path)
        results.append((rows, seconds, peak, code, last))
        print(f"{rows:>10,d} rows: {seconds:7.1f} s, peak RSS {peak / 1e9:5.2f} GB, exit {code} {last}", flush=True)
    print()
    print(f"{'rows':>10} {'seconds':>8} {'peak GB':>8}  target")
    for rows, seconds, peak, code, _ in results:
        ok = code == 0 and seconds < TARGET_SECONDS and peak < TARGET_BYTES
        big = rows >= 1_000_000
        print(f"{rows:>10,d} {seconds:8.1f} {peak / 1e9:8.2f}  {('met' if ok else 'NOT met') if big else '-'}")
    small, large = results[0], results[-1]
    print(f"time ratio large/small: {large[1] / small[1]:.1f} for {large[0] / small[0]:.0f}x the rows")
    return 0 if all(r[3] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
