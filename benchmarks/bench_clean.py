"""Benchmark of ``hipkit.clean`` on a large synthetic long export (run by hand; not a test).

What it does
------------
1. Generates (seeded, vectorised, ``numpy.random.default_rng``) a long export CSV in
   ``benchmarks/_data/`` (git-ignored): one row per participant x visit x side
   (125,000 participants x 4 visits x 2 sides = 1,000,000 rows by default), with a per-row
   strength unit column (N / kg / lb spellings) and 1% bad rows spread through: text in numeric
   cells, impossible values, unknown visit labels, missing ids and exact duplicate rows.
   The file is cached (with a manifest of what was injected) and reused; ``--regenerate``
   rebuilds it.
2. Runs, each in a fresh subprocess:
   - a *baseline* that only imports hipkit (reads nothing),
   - the *reference* ``pandas.read_csv(path, dtype=str)``,
   - ``hipkit.clean(path, progress=False)``,
   timing the call with ``time.perf_counter`` inside the child and reading the child's peak
   RSS (``ru_maxrss``, KiB on Linux) from the kernel when the parent reaps it.
3. Prints a table (rows, wall time, peak RSS, ratio to read_csv, whether the targets of the
   issue are met: under 15 s and under 2 GB), and the log's row accounting checked against
   what the generator injected.

Peak memory: ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the largest peak among *all*
reaped children, so each child is reaped with ``os.wait4`` which returns the same ``ru_maxrss``
for that one child. The parent imports only the standard library (the generator also runs in a
child): on Linux a child's ``ru_maxrss`` includes the RSS of the process it was forked from
(the old address space is accounted at ``exec``), so a parent holding the generated frame would
inflate every measurement.

Usage
-----
    .venv/bin/python benchmarks/bench_clean.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_clean.py --rows 100000   # quick
    .venv/bin/python benchmarks/bench_clean.py --profile pyinstrument   # plus a profiled run
    .venv/bin/python benchmarks/bench_clean.py --profile cprofile

Only the standard library is imported at module level, on purpose (see above).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
GEN_VERSION = 1  # bump when the generator changes, so cached files are rebuilt

TARGET_SECONDS = 15.0
TARGET_BYTES = 2_000_000_000  # "2 GB" read as 2e9 bytes (1907 MiB), the stricter reading

BAD_FRACTION = 0.01
# Share of the bad rows by kind (sums to 1).
BAD_KINDS = {
    "text_in_numeric": 0.30,
    "impossible_value": 0.25,
    "unknown_visit": 0.15,
    "missing_id": 0.15,
    "exact_duplicate": 0.15,
}
VISIT_LABELS = ["Baseline", "Week 2", "wk4", "6 weeks"]
VISIT_WEEKS = [0, 2, 4, 6]
COLUMNS = [
    "Participant ID", "Group", "Sex", "Age", "Body mass (kg)", "Visit", "Visit date", "Side",
    "Strength", "Strength unit", "VAS (mm)", "AKPS", "LEFS",
]


# --------------------------------------------------------------------------------------------
# Data generation (runs in a child process)
# --------------------------------------------------------------------------------------------

def data_path(rows: int, seed: int) -> Path:
    return DATA_DIR / f"long_export_{rows}_seed{seed}.csv"


def manifest_path(csv: Path) -> Path:
    return csv.with_suffix(".manifest.json")


def _split_counts(total: int, shares: dict[str, float]) -> dict[str, int]:
    counts = {k: int(total * v) for k, v in shares.items()}
    keys = list(shares)
    i = 0
    while sum(counts.values()) < total:  # hand out the rounding remainder
        counts[keys[i % len(keys)]] += 1
        i += 1
    return counts


def generate(path: Path, rows: int, seed: int) -> dict:
    """Write the synthetic long export to ``path``; return the manifest (what was injected)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_p = -(-rows // 8)
    n_full = n_p * 8
    idx = np.arange(n_full)
    p = idx // 8
    v = (idx // 2) % 4
    s = idx % 2
    week = np.asarray(VISIT_WEEKS)[v]

    def obj(a) -> np.ndarray:
        return np.asarray(a).astype(str).astype(object)

    # Per participant.
    width = max(6, len(str(n_p)))
    pids = np.char.add("P", np.char.zfill(np.arange(1, n_p + 1).astype(str), width)).astype(object)
    group = np.where(rng.random(n_p) < 0.5, "Exercise", "Control").astype(object)
    variant = rng.random(n_p)
    group = np.where(variant < 0.02, np.char.lower(group.astype(str)), group)  # case variants
    sex = rng.choice(np.array(["F", "M", "Female", "Male", "f", "m"], dtype=object), n_p,
                     p=[0.35, 0.35, 0.1, 0.1, 0.05, 0.05])
    age = rng.integers(18, 66, n_p)
    mass = np.round(np.clip(rng.normal(72, 12, n_p), 45, 140), 1)
    day0 = np.datetime64("2019-01-07") + rng.integers(0, 5 * 365, n_p).astype("timedelta64[D]")
    str0 = rng.normal(180, 40, (n_p, 2)).clip(60, 400)  # baseline strength (N) per side
    gain = rng.normal(4.0, 2.0, n_p)                      # N per week
    vas0 = rng.integers(30, 81, n_p)
    akps0 = rng.integers(50, 81, n_p)
    lefs0 = rng.integers(40, 71, n_p)

    # Per participant x visit (shared by both sides).
    pv = np.arange(n_p * 4)
    pv_p, pv_w = pv // 4, np.asarray(VISIT_WEEKS)[pv % 4]
    jitter = np.where(pv_w == 0, 0, rng.integers(-3, 4, n_p * 4))
    date_pv = day0[pv_p] + (7 * pv_w + jitter).astype("timedelta64[D]")
    vas_pv = np.clip(vas0[pv_p] - 5 * pv_w + rng.integers(-8, 9, n_p * 4), 0, 100)
    akps_pv = np.clip(akps0[pv_p] + 3 * pv_w + rng.integers(-5, 6, n_p * 4), 0, 100)
    lefs_pv = np.clip(lefs0[pv_p] + 2 * pv_w + rng.integers(-4, 5, n_p * 4), 0, 80)
    pvi = idx // 2

    strength_n = str0[p, s] + gain[p] * week + rng.normal(0, 10, n_full)
    strength_n = np.clip(strength_n, 20, 900)
    unit_spell = np.array(["N", "kg", "lb", "n", "kgf", "lbs"], dtype=object)
    from hipkit.registry import load_registry

    unit_factor = np.array([load_registry()["hip_abd_strength_n"].factor(u.lower()) for u in unit_spell])
    u = rng.choice(len(unit_spell), n_full, p=[0.45, 0.25, 0.2, 0.04, 0.03, 0.03])
    strength = np.round(strength_n / unit_factor[u], 1)

    cols = {
        "Participant ID": pids[p],
        "Group": group[p],
        "Sex": sex[p],
        "Age": obj(age[p]),
        "Body mass (kg)": obj(mass[p]),
        "Visit": np.asarray(VISIT_LABELS, dtype=object)[v],
        "Visit date": np.datetime_as_string(date_pv[pvi], unit="D").astype(object),
        "Side": np.where(s == 0, "L", "R").astype(object),
        "Strength": obj(strength),
        "Strength unit": unit_spell[u],
        "VAS (mm)": obj(vas_pv[pvi]),
        "AKPS": obj(akps_pv[pvi]),
        "LEFS": obj(lefs_pv[pvi]),
    }
    cols = {k: a[:rows] for k, a in cols.items()}

    # Bad rows, spread through the file.
    n_bad = int(round(rows * BAD_FRACTION))
    counts = _split_counts(n_bad, BAD_KINDS)
    n_dup = counts["exact_duplicate"]
    others = rng.permutation(rows)[: n_bad - n_dup]
    is_bad = np.zeros(rows, dtype=bool)
    is_bad[others] = True
    start = 0
    where: dict[str, np.ndarray] = {}
    for kind in ("text_in_numeric", "impossible_value", "unknown_visit", "missing_id"):
        where[kind] = others[start:start + counts[kind]]
        start += counts[kind]

    numeric_cols = ["Strength", "VAS (mm)", "AKPS", "LEFS", "Age", "Body mass (kg)"]
    # Text in numeric cells (not_a_number, plus an ambiguous decimal and a formula-like cell).
    w = where["text_in_numeric"]
    col_pick = rng.integers(0, len(numeric_cols), len(w))
    texts = np.array(["see notes", "abc", "12..5", "#REF!", "1,5", "=A1", "approx 40?"],
                     dtype=object)
    text_pick = texts[rng.integers(0, len(texts), len(w))]
    for j, c in enumerate(numeric_cols):
        m = col_pick == j
        cols[c][w[m]] = text_pick[m]
    # Impossible values (outside the registry's range after unit conversion).
    w = where["impossible_value"]
    col_pick = rng.integers(0, len(numeric_cols), len(w))
    impossible = {
        "Strength": np.array(["5000", "-20", "1500"], dtype=object),
        "VAS (mm)": np.array(["250", "-5", "1000"], dtype=object),
        "AKPS": np.array(["130", "-1", "999"], dtype=object),
        "LEFS": np.array(["95", "-3", "800"], dtype=object),
        "Age": np.array(["250", "2", "0"], dtype=object),
        "Body mass (kg)": np.array(["5", "720", "0"], dtype=object),
    }
    for j, c in enumerate(numeric_cols):
        rr = w[col_pick == j]
        cols[c][rr] = impossible[c][rng.integers(0, 3, len(rr))]
        if c == "Strength":
            cols["Strength unit"][rr] = "N"
    # Unknown visit labels (the record cannot be placed: removed).
    w = where["unknown_visit"]
    cols["Visit"][w] = np.array(["Visit 3", "FU", "Week ?", "3 months"], dtype=object)[
        rng.integers(0, 4, len(w))]
    # Missing participant ids (removed).
    w = where["missing_id"]
    cols["Participant ID"][w] = np.array(["", "  "], dtype=object)[rng.integers(0, 2, len(w))]
    # Exact duplicates: a right-side row replaced by a copy of the clean left-side row above it.
    cand = np.arange(1, rows, 2)
    cand = cand[~is_bad[cand] & ~is_bad[cand - 1]]
    dup = np.sort(rng.choice(cand, n_dup, replace=False))
    for c in COLUMNS:
        cols[c][dup] = cols[c][dup - 1]
    where["exact_duplicate"] = dup

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    pd.DataFrame(cols, columns=COLUMNS).to_csv(tmp, index=False)
    os.replace(tmp, path)
    removed = counts["unknown_visit"] + counts["missing_id"]
    manifest = {
        "generator_version": GEN_VERSION,
        "rows": rows,
        "seed": seed,
        "participants": n_p,
        "bytes": path.stat().st_size,
        "bad_rows": counts,
        "expected": {
            "in": rows,
            "quarantined": removed,
            "duplicates_removed": n_dup,
            "clean": rows - removed - n_dup,
        },
    }
    manifest_path(path).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --------------------------------------------------------------------------------------------
# Children: each prints one JSON line (the last line of its standard output)
# --------------------------------------------------------------------------------------------

def _child(argv: list[str]) -> int:
    mode = argv[0]
    out: dict = {"mode": mode}
    try:
        if mode == "generate":
            path, rows, seed = Path(argv[1]), int(argv[2]), int(argv[3])
            t0 = time.perf_counter()
            out["manifest"] = generate(path, rows, seed)
            out["seconds"] = time.perf_counter() - t0
        elif mode == "baseline":
            import hipkit  # the cost of importing the package, reading nothing

            out["seconds"] = 0.0
            out["hipkit_file"] = hipkit.__file__
        elif mode == "read_csv":
            import pandas as pd

            t0 = time.perf_counter()
            df = pd.read_csv(argv[1], dtype=str)
            out["seconds"] = time.perf_counter() - t0
            out["shape"] = list(df.shape)
        elif mode in ("clean", "profile"):
            import warnings

            import hipkit

            warnings.simplefilter("ignore")  # the DataQualityWarning is expected here
            path = argv[1]
            if mode == "clean":
                t0 = time.perf_counter()
                res = hipkit.clean(path, progress=False)
                out["seconds"] = time.perf_counter() - t0
            else:
                profiler, dest = argv[2], Path(argv[3])
                t0 = time.perf_counter()
                res = _profiled_clean(path, profiler, dest)
                out["seconds"] = time.perf_counter() - t0
                out["profile"] = str(dest)
            out["rows"] = res.log["rows"]
            out["data_shape"] = list(res.data.shape)
            out["quarantine_entries"] = int(len(res.quarantine))
            out["quarantine_by_reason"] = {
                f"{a}: {r}": int(n)
                for (a, r), n in res.quarantine.groupby(["action", "reason"]).size().items()
            }
        elif mode == "out_of_core":
            import tempfile
            import warnings

            from hipkit.cleaning.outofcore import clean_out_of_core

            warnings.simplefilter("ignore")
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                res = clean_out_of_core(argv[1], Path(tmp) / "out", partitions=int(argv[2]), scheduler="serial",
                                        progress=False)
                out["seconds"] = time.perf_counter() - t0
            out["rows"] = res.log["rows"]
            out["rows"].pop("duplicate_lines", None)
            out["rows"].pop("combined_lines", None)
        else:
            raise SystemExit(f"unknown child mode {mode!r}")
    except Exception as exc:  # noqa: BLE001 - reported to the parent verbatim
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()
    sys.stdout.write("\n" + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
    return 0 if "error" not in out else 1


def _profiled_clean(path: str, profiler: str, dest: Path):
    import hipkit

    dest.parent.mkdir(parents=True, exist_ok=True)
    if profiler == "pyinstrument":
        from pyinstrument import Profiler

        prof = Profiler(interval=0.001)
        prof.start()
        res = hipkit.clean(path, progress=False)
        prof.stop()
        dest.with_suffix(".html").write_text(prof.output_html())
        dest.write_text(prof.output_text(unicode=False, color=False, show_all=False))
        return res
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    res = hipkit.clean(path, progress=False)
    prof.disable()
    prof.dump_stats(str(dest.with_suffix(".prof")))
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    buf.write("=== all functions by cumulative time ===\n")
    st.print_stats(40)
    buf.write("\n=== hipkit functions by cumulative time ===\n")
    st.print_stats("hipkit", 40)
    buf.write("\n=== all functions by own (tottime) time ===\n")
    st.sort_stats("tottime").print_stats(30)
    dest.write_text(buf.getvalue())
    return res


# --------------------------------------------------------------------------------------------
# Parent: runs the children and reports (standard library only)
# --------------------------------------------------------------------------------------------

class Child:
    def __init__(self, returncode: int, maxrss_kib: int, wall: float, payload: dict | None,
                 stderr: str, stdout: str):
        self.returncode = returncode
        self.maxrss_kib = maxrss_kib
        self.wall = wall
        self.payload = payload or {}
        self.stderr = stderr
        self.stdout = stdout

    @property
    def mib(self) -> float:
        return self.maxrss_kib / 1024.0

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or "error" in self.payload or not self.payload


def run_child(*args: str) -> Child:
    """Run this file as ``--child ARGS`` in a fresh interpreter; reap it with wait4 (rusage)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    payload = None
    for line in reversed(stdout.strip().splitlines()):
        try:
            payload = json.loads(line)
            break
        except ValueError:
            continue
    return Child(proc.returncode, usage.ru_maxrss, wall, payload, stderr, stdout)


def warm_cache(path: Path) -> None:
    """Read the file once in 1 MiB blocks so every child finds it in the page cache."""
    with open(path, "rb") as fh:
        while fh.read(1 << 20):
            pass


def _git_state() -> str:
    """The commit of the package being measured, and whether toolkit/ has uncommitted edits."""
    try:
        root = HERE.parent
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
             "toolkit/hipkit/clean", "toolkit/hipkit/io", "toolkit/hipkit/registry"],
            capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    files = [ln[3:].strip().split("/")[-1] for ln in dirty if ln.strip()]
    return f"commit {head}" + (f" + uncommitted edits to {', '.join(files)}" if files else
                               " (cleaner code committed, no local edits)")


def _die(what: str, ch: Child) -> None:
    print(f"\n!! {what} failed (exit {ch.returncode})", file=sys.stderr)
    if ch.payload.get("traceback"):
        print(ch.payload["traceback"], file=sys.stderr)
    print(ch.stderr[-5000:], file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000,
                    help="rows in the export (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=20240601, help="generator seed")
    ap.add_argument("--regenerate", action="store_true", help="rebuild the cached CSV")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run read_csv and clean this many times; "
                         "report the fastest (and the largest peak)")
    ap.add_argument("--profile", choices=["pyinstrument", "cprofile"],
                    help="after the measured runs, run clean once more under a profiler")
    ap.add_argument("--no-bench", action="store_true",
                    help="with --profile: skip the measured runs")
    ap.add_argument("--out-of-core", type=int, metavar="PARTITIONS", default=0,
                    help="also clean out of core (serially, in one process) with this many participant buckets")
    args = ap.parse_args(argv)
    if args.rows < 8:
        ap.error("--rows must be at least 8")

    path = data_path(args.rows, args.seed)
    man_p = manifest_path(path)
    manifest = None
    if path.exists() and man_p.exists() and not args.regenerate:
        manifest = json.loads(man_p.read_text())
        if manifest.get("generator_version") != GEN_VERSION:
            manifest = None
    if manifest is None:
        print(f"generating {args.rows:,} rows -> {path.relative_to(HERE.parent)} ...", flush=True)
        ch = run_child("generate", str(path), str(args.rows), str(args.seed))
        if ch.failed:
            _die("generation", ch)
            return 2
        manifest = ch.payload["manifest"]
        print(f"  generated in {ch.payload['seconds']:.1f} s, peak RSS {ch.mib:,.0f} MiB",
              flush=True)
    else:
        print(f"reusing {path.relative_to(HERE.parent)} (use --regenerate to rebuild)")
    print(f"  file: {manifest['bytes'] / 1e6:,.1f} MB, {manifest['rows']:,} rows, "
          f"{manifest['participants']:,} participants; bad rows: "
          + ", ".join(f"{k} {v:,}" for k, v in manifest["bad_rows"].items()))
    warm_cache(path)
    print(f"  python {sys.version.split()[0]}, {os.cpu_count()} CPUs; parent peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB", flush=True)
    print(f"  hipkit source (the checkout beside this file): {_git_state()}")
    load_before = os.getloadavg()[0]

    status = 0
    if not args.no_bench:
        print("running: baseline (import hipkit) ...", flush=True)
        base = run_child("baseline")
        if base.failed:
            _die("baseline", base)
            return 2
        print(f"  hipkit imported from {Path(base.payload['hipkit_file']).parent}", flush=True)
        ref_runs, clean_runs = [], []
        for i in range(args.repeat):
            print(f"running: pandas.read_csv(dtype=str) [{i + 1}/{args.repeat}] ...", flush=True)
            ch = run_child("read_csv", str(path))
            if ch.failed:
                _die("read_csv", ch)
                return 2
            ref_runs.append(ch)
            print(f"running: hipkit.clean [{i + 1}/{args.repeat}] ...", flush=True)
            ch = run_child("clean", str(path))
            clean_runs.append(ch)
            if ch.failed:
                _die("hipkit.clean", ch)
                print(f"  (crashed after {ch.wall:.1f} s of process time; "
                      f"peak RSS {ch.mib:,.0f} MiB)")
                return 1
        ref_t = min(c.payload["seconds"] for c in ref_runs)
        ref_m = max(c.mib for c in ref_runs)
        cl_t = min(c.payload["seconds"] for c in clean_runs)
        cl_m = max(c.mib for c in clean_runs)
        cl = clean_runs[0].payload
        status = report(args, manifest, base, ref_t, ref_m, cl_t, cl_m, cl)
        load = max(load_before, os.getloadavg()[0])
        print(f"\n1-min load average before/after the runs: {load_before:.2f} / "
              f"{os.getloadavg()[0]:.2f}"
              + ("  WARNING: other processes were competing for the CPUs; timings are inflated"
                 if load > 0.5 * (os.cpu_count() or 1) else ""))

    if args.out_of_core:
        print(f"\nrunning: out-of-core clean, {args.out_of_core} buckets, one process ...", flush=True)
        ch = run_child("out_of_core", str(path), str(args.out_of_core))
        if ch.failed:
            _die("out-of-core clean", ch)
            return 1
        r = ch.payload["rows"]
        print(f"  out of core: {ch.payload['seconds']:.1f} s, peak RSS {ch.mib:,.0f} MiB; rows in {r['in']:,} = "
              f"clean {r['clean']:,} + quarantined {r['quarantined']:,} + duplicates {r['duplicates_removed']:,}: "
              f"{r['invariant_holds']}")

    if args.profile:
        dest = DATA_DIR / f"profile_{args.rows}_{args.profile}.txt"
        print(f"\nprofiling hipkit.clean with {args.profile} ...", flush=True)
        ch = run_child("profile", str(path), args.profile, str(dest))
        if ch.failed:
            _die("profiled clean", ch)
            return 1
        print(f"  profiled run: {ch.payload['seconds']:.1f} s (profiler overhead included); "
              f"report in {dest.relative_to(HERE.parent)}"
              + (f" and {dest.with_suffix('.html').name}" if args.profile == "pyinstrument"
                 else f" and {dest.with_suffix('.prof').name}"))
        print(dest.read_text()[:12000])
    print(f"(cross-check: getrusage(RUSAGE_CHILDREN).ru_maxrss over all children = "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MiB)")
    return status


def report(args, manifest, base: Child, ref_t: float, ref_m: float, cl_t: float, cl_m: float,
           cl: dict) -> int:
    rows = manifest["rows"]
    ok_t = cl_t < TARGET_SECONDS
    ok_m = cl_m * 1024 * 1024 < TARGET_BYTES
    line = "-" * 86
    print()
    print(f"hipkit.clean benchmark: {rows:,} rows, {manifest['bytes'] / 1e6:,.1f} MB CSV, "
          f"{os.cpu_count()} CPUs" + (f", best of {args.repeat}" if args.repeat > 1 else ""))
    print(line)
    print(f"{'run':<34}{'rows':>11}{'wall (s)':>10}{'peak RSS (MiB)':>16}{'vs read_csv':>13}")
    print(line)
    print(f"{'baseline: import hipkit only':<34}{'-':>11}{'-':>10}{base.mib:>16,.0f}{'-':>13}")
    print(f"{'pandas.read_csv(dtype=str)':<34}{rows:>11,}{ref_t:>10.2f}{ref_m:>16,.0f}{'1.0x':>13}")
    print(f"{'hipkit.clean(progress=False)':<34}{rows:>11,}{cl_t:>10.2f}{cl_m:>16,.0f}"
          f"{cl_t / ref_t:>12.1f}x")
    print(line)
    print(f"clean peak RSS above the import-only baseline: {cl_m - base.mib:,.0f} MiB "
          f"({cl_m / base.mib:.1f}x baseline; {cl_m / ref_m:.1f}x the read_csv child)")
    print(f"target wall time < {TARGET_SECONDS:g} s : {'MET' if ok_t else 'NOT MET'} "
          f"({cl_t:.2f} s)")
    print(f"target peak RSS  < 2 GB  : {'MET' if ok_m else 'NOT MET'} "
          f"({cl_m * 1024 * 1024 / 1e9:.2f} GB = {cl_m:,.0f} MiB)")
    r = cl["rows"]
    exp = manifest["expected"]
    print()
    print("row accounting (log['rows'])       actual     expected (from generator)")
    for k in ("in", "clean", "quarantined", "duplicates_removed"):
        mark = "" if r.get(k) == exp.get(k) else "   <-- differs"
        print(f"  {k:<30}{r.get(k, 0):>10,}   {exp[k]:>10,}{mark}")
    for k in ("combined_into_other_rows", "out", "values_quarantined", "participants"):
        print(f"  {k:<30}{r.get(k, 0):>10,}")
    inv = r["in"] == r["clean"] + r["quarantined"] + r["duplicates_removed"]
    print(f"  invariant in == clean + quarantined + duplicates_removed: "
          f"{r['in']:,} == {r['clean']:,} + {r['quarantined']:,} + {r['duplicates_removed']:,} -> "
          f"{'HOLDS' if inv else 'FAILS'} (log says {r.get('invariant_holds')})")
    print(f"  clean table {cl['data_shape'][0]:,} x {cl['data_shape'][1]}; "
          f"quarantine entries {cl['quarantine_entries']:,}")
    for k, n in sorted(cl["quarantine_by_reason"].items()):
        print(f"    {k:<45}{n:>8,}")
    matches = all(r.get(k) == exp[k] for k in exp)
    if not matches:
        print("  NOTE: the accounting differs from what the generator injected (see above)")
    return 0 if inv else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[2:]))
    sys.exit(main())
