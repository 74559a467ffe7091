"""Corpus report: hipkit against lme4 on every model of corpus.json.

Prints the corpus size, the worst relative error per quantity over the corpus (where the optima
agree), the models where hipkit's criterion beats lme4's, and every failure with its category.
Runs the same comparison as ``tests/models/test_reference_corpus.py`` (imported from it). Also
writes the summary as JSON with ``--json PATH``.

    PYTHONPATH=toolkit .venv/bin/python tests/reference/corpus/report.py [--json summary.json] [MODEL ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _test_module():
    sys.path.insert(0, str(ROOT))  # `tests.models.test_reference` for the module's relative import
    spec = importlib.util.spec_from_file_location(
        "tests.models.test_reference_corpus", ROOT / "tests" / "models" / "test_reference_corpus.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def run(names: list[str] | None = None) -> dict:
    """Compare every (or the named) corpus models; return the summary as a dict."""
    mod = _test_module()
    ref = mod.REFERENCE
    names = names or mod.MODEL_NAMES
    comps, seconds = [], {}
    for n in names:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                comps.append(mod.compare_model(n))
            except Exception as exc:  # noqa: BLE001 - a crash is reported as a failure of that model
                c = mod.Comparison(n)
                c.failures.append(("other", "fit", f"{type(exc).__name__}: {exc}"))
                comps.append(c)
        seconds[n] = time.perf_counter() - t0
    # Models at a worse optimum: what else differs, from hipkit's formulas at lme4's theta.
    at_lme4 = {}
    for c in comps:
        if "criterion_worse" in c.categories:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = mod.compare_model(c.name, at_reference_theta=True)
            at_lme4[c.name] = d
    worst: dict[str, tuple[float, str]] = {}
    used: dict[str, tuple[float, str]] = {}
    for c in comps:
        if c.hipkit_better or "criterion_worse" in c.categories:
            continue
        for q, e in c.errors.items():
            if q not in worst or e > worst[q][0]:
                worst[q] = (e, c.name)
        for q, e in c.tolerance_used.items():
            if q not in used or e > used[q][0]:
                used[q] = (e, c.name)
    models = ref["models"]
    return {
        "software": ref.get("software"),
        "datasets": len({models[n]["dataset"] for n in mod.MODEL_NAMES}),
        "models": len(mod.MODEL_NAMES),
        "models_with_r_errors": sorted(n for n, m in models.items() if "error" in m),
        "compared": len(comps),
        "reml": sum(bool(models[c.name]["REML"]) for c in comps),
        "kenward_roger": sum(bool(models[c.name].get("fixed_kenward_roger")) for c in comps),
        "emmeans": sum(bool(models[c.name].get("emmeans")) for c in comps),
        "lme4_singular": sum(bool(models[c.name]["is_singular"]) for c in comps),
        "optimizer_won": dict(Counter(models[c.name]["optimizer_won"] for c in comps)),
        "passed": sum(not c.failures for c in comps),
        "worst_relative_error": {q: {"error": e, "model": n} for q, (e, n) in sorted(worst.items())},
        "worst_tolerance_used": {q: {"used": e, "model": n} for q, (e, n) in sorted(used.items())},
        "hipkit_better": [
            {
                "model": c.name,
                "hipkit": c.criterion_hipkit,
                "lme4": c.criterion_lme4,
                "by": c.criterion_lme4 - c.criterion_hipkit,
                "formula": models[c.name]["formula"],
            }
            for c in comps
            if c.hipkit_better
        ],
        "failures": [
            {
                "model": c.name,
                "formula": models[c.name]["formula"],
                "REML": models[c.name]["REML"],
                "categories": sorted(c.categories),
                "details": [list(f) for f in c.failures],
            }
            for c in comps
            if c.failures
        ],
        "failures_by_category": dict(Counter(cat for c in comps for cat in c.categories)),
        "criterion_worse_at_lme4_theta": [
            {
                "model": n,
                "categories": sorted(d.categories - {"criterion_worse"}),
                "details": [list(f) for f in d.failures if f[0] != "criterion_worse"],
            }
            for n, d in at_lme4.items()
        ],
        "known_failures": {k: sorted(v) for k, v in mod.KNOWN_FAILURES.items()},
        "lme4_optimisers_disagree": [
            {
                "model": c.name,
                "kept": models[c.name]["optimizer_won"],
                "worse_by": {
                    o["optimizer"]: o["criterion"] - models[c.name]["criterion"]
                    for o in models[c.name]["optimizers"]
                    if o.get("criterion") is not None
                    and o["criterion"] - models[c.name]["criterion"] > 1e-6 * max(1.0, abs(models[c.name]["criterion"]))
                },
                "hipkit_worse_by": c.criterion_hipkit - c.criterion_lme4,
            }
            for c in comps
            if models[c.name]["criterion_spread"] > 1e-6 * max(1.0, abs(models[c.name]["criterion"]))
        ],
        "seconds_total": sum(seconds.values()),
        "slowest": sorted(seconds.items(), key=lambda kv: -kv[1])[:5],
    }


def print_report(s: dict, max_details: int = 4) -> None:
    """Human-readable report of a summary from :func:`run`."""
    sw = s["software"] or {}
    print(
        f"corpus: {s['models']} models on {s['datasets']} data sets ({s['compared']} compared); "
        f"{s['reml']} REML, {s['compared'] - s['reml']} ML; Kenward-Roger on {s['kenward_roger']}; "
        f"emmeans on {s['emmeans']}; lme4 singular on {s['lme4_singular']}"
    )
    print("reference: " + ", ".join(f"{k} {v}" for k, v in sw.items()))
    print(f"lme4 optimiser kept: {s['optimizer_won']}; R errors: {s['models_with_r_errors'] or 'none'}")
    print(
        f"passed: {s['passed']} / {s['compared']}; hipkit time {s['seconds_total']:.1f} s "
        f"(slowest: {', '.join(f'{n} {t:.1f}s' for n, t in s['slowest'])})"
    )
    print("\nworst relative error per quantity, |hipkit - R| / max(|R|, atol) (models where the optima agree):")
    print(f"  {'quantity':<26} {'rel err':>9}  {'model':<14} {'tol used':>9}  model")
    for q, v in s["worst_relative_error"].items():
        u = s["worst_tolerance_used"].get(q, {"used": float("nan"), "model": ""})
        print(f"  {q:<26} {v['error']:9.2e}  {v['model']:<14} {u['used']:9.3g}  {u['model']}")
    print("  (tol used: the worst |hipkit - R| / (atol + rtol |R|) at the test's tolerances; above 1 fails)")
    print("\nlme4's own optimisers disagreeing (by > 1e-6 relative; the best is kept):")
    for r in s["lme4_optimisers_disagree"]:
        worse = ", ".join(f"{k} worse by {v:.4g}" for k, v in r["worse_by"].items())
        print(f"  {r['model']:<16} kept {r['kept']}; {worse}; hipkit worse by {r['hipkit_worse_by']:.4g}")
    print(f"\nhipkit's criterion beats lme4's (by > 1e-6 relative): {len(s['hipkit_better'])}")
    for b in s["hipkit_better"]:
        print(f"  {b['model']:<16} hipkit {b['hipkit']:.8f} lme4 {b['lme4']:.8f} (by {b['by']:.3g})  {b['formula']}")
    print(f"\nfailures: {len(s['failures'])} models; by category {s['failures_by_category']}")
    for f in s["failures"]:
        known = s["known_failures"].get(f["model"])
        print(
            f"  {f['model']:<16} {f['categories']}{' (known)' if known == f['categories'] else ''}  "
            f"{'REML' if f['REML'] else 'ML'}  {f['formula']}"
        )
        for cat, q, d in f["details"][:max_details]:
            print(f"      [{cat}] {q}: {d}")
        if len(f["details"]) > max_details:
            print(f"      ... {len(f['details']) - max_details} more")
    rows = s["criterion_worse_at_lme4_theta"]
    print(f"\n{len(rows)} models at a worse optimum, compared from hipkit's formulas at lme4's theta:")
    for r in rows:
        print(f"  {r['model']:<16} {r['categories'] or 'everything else matches'}")
        for cat, q, d in r["details"][:max_details]:
            print(f"      [{cat}] {q}: {d}")
        if len(r["details"]) > max_details:
            print(f"      ... {len(r['details']) - max_details} more")


def main(argv=None) -> int:
    """Command line: print the report (and write JSON with --json)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--details", type=int, default=4, help="failure lines shown per model")
    a = ap.parse_args(argv)
    s = run(a.models or None)
    print_report(s, a.details)
    if a.json:
        a.json.write_text(json.dumps(s, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
