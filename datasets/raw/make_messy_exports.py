"""Write the bundled messy example exports in datasets/raw/ (all data MADE UP).

Every value in these files is simulated: there are no real patients, and the names
("Test Person 01"), dates of birth and phone numbers (555-01xx, a range reserved for fiction) are
fake. The files exist to exercise every path of ``hipkit.clean``: wide and long layouts, a REDCap
export with a mapping file, unit conversions, missing-value tokens, bad cells, duplicates, dropouts
and visit-window checks.
README.md in this folder lists each deliberate problem.

Run from the repository root::

    python datasets/raw/make_messy_exports.py            # writes into datasets/raw/
    python datasets/raw/make_messy_exports.py --out DIR  # writes elsewhere

The output is byte-for-byte identical on every run (fixed seed, fixed formatting).

Calibration (loose, on purpose; these files test the cleaner, not a hypothesis)
------------------------------------------------------------------------------
- Hip-abductor isometric strength: 60-140 N at baseline, rising about 20-30 % by week 6 (HIP group
  more than KNEE). Rough calibration to Ferber R, Kendall KD, Farr L, J Athl Train 2011;46(2):142-9
  (PMC3070501), for which a secondary summary reports a ~32 % strength rise after a 3-week
  hip-abductor protocol; the paper's own means were not read (docs/references.md), so
  the rise used here is deliberately a little smaller and spread over 6 weeks.
- Pain VAS 5-7 cm at baseline falling to 2-4 cm at week 6, HIP about one week ahead of KNEE;
  demographics (age ~29 +/- 7 y, body mass ~68 +/- 13 kg, about two thirds women) and the HIP vs
  KNEE 6-week design follow Ferber R et al., J Athl Train 2015;50(4):366-77 (PMC4560005).
- AKPS ~68 rising ~12 points, LEFS ~58 rising ~9 points (Binkley 1999 MCID 9).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from hipkit.registry import load_registry

SEED = 20240601
WEEKS = (0, 2, 4, 6)
# Unit factors from hipkit's measure registry (the one place they are written).
LB_PER_N = 1 / load_registry()["hip_abd_strength_n"].factor("lb")
KGF_PER_N = 1 / load_registry()["hip_abd_strength_n"].factor("kgf")
FIRST_BASELINE = pd.Timestamp("2024-01-08")


# -- the simulated cohort (true values, before any mess) ---------------------------------------
def simulate(rng: np.random.Generator, n: int, groups: list[str]) -> pd.DataFrame:
    """One row per participant x week with true values in canonical units."""
    rows = []
    for i in range(n):
        group = groups[i]
        hip = group == "HIP"
        sex = "female" if rng.random() < 0.67 else "male"
        age = int(np.clip(round(rng.normal(29, 7)), 18, 48))
        mass = float(np.clip(rng.normal(63 if sex == "female" else 76, 9), 45, 110))
        height = float(np.clip(rng.normal(165 if sex == "female" else 178, 7), 150, 198))
        base_n = float(np.clip(rng.normal(100, 18), 62, 138))
        asym = rng.uniform(0.9, 1.1)  # left / right
        gain = rng.uniform(0.24, 0.30) if hip else rng.uniform(0.18, 0.24)
        pain0 = rng.uniform(5.0, 7.0)
        pain6 = rng.uniform(2.0, 3.5) if hip else rng.uniform(2.5, 4.0)
        akps0 = float(np.clip(rng.normal(68, 7), 45, 85))
        lefs0 = float(np.clip(rng.normal(58, 6), 40, 72))
        tug0, mwt0 = rng.normal(7.2, 0.8), rng.normal(540, 45)
        sls0_l, sls0_r = rng.normal(28, 6), rng.normal(29, 6)
        start = FIRST_BASELINE + pd.Timedelta(days=int(rng.integers(0, 120)))
        for w in WEEKS:
            # progress towards the week-6 value: HIP improves about a week earlier than KNEE
            lag = 0.0 if hip else 1.0
            frac = float(np.clip((w - lag) / (6 - lag), 0, 1)) if w else 0.0
            frac_s = w / 6  # strength: steady
            jitter = 0 if w == 0 else int(rng.integers(-3, 4))
            rows.append({
                "i": i, "group": group, "sex": sex, "age": age, "mass": mass, "height": height,
                "week": w,
                "date": start + pd.Timedelta(days=7 * w + jitter),
                "str_l": base_n * asym ** 0.5 * (1 + gain * frac_s) * rng.normal(1, 0.03),
                "str_r": base_n / asym ** 0.5 * (1 + gain * frac_s) * rng.normal(1, 0.03),
                "pain": float(np.clip(pain0 + (pain6 - pain0) * frac + rng.normal(0, 0.3), 0, 10)),
                "akps": float(np.clip(akps0 + 12 * frac + rng.normal(0, 2), 0, 100)),
                "lefs": float(np.clip(lefs0 + 9 * frac + rng.normal(0, 1.5), 0, 80)),
                "tug": float(np.clip(tug0 - 0.6 * frac + rng.normal(0, 0.25), 4, 12)),
                "mwt": float(np.clip(mwt0 + 35 * frac + rng.normal(0, 12), 350, 750)),
                "sls_l": float(np.clip(sls0_l + 6 * frac + rng.normal(0, 2.5), 5, 60)),
                "sls_r": float(np.clip(sls0_r + 6 * frac + rng.normal(0, 2.5), 5, 60)),
            })
    return pd.DataFrame(rows)


def f1(x: float, decimal: str = ".") -> str:
    return f"{x:.1f}".replace(".", decimal)


# -- 1. wide clinic export ---------------------------------------------------------------------
def clinic_wide(rng: np.random.Generator) -> pd.DataFrame:
    n = 40
    groups = list(rng.permutation(["HIP"] * 20 + ["KNEE"] * 20))
    sim = simulate(rng, n, groups)
    spell_group = {"HIP": ["HIP", "HIP", "Hip", "hip ", "Hip"],
                   "KNEE": ["KNEE", "KNEE", "Knee", "knee", " KNEE"]}
    spell_sex = {"female": ["F", "f", "female", "F", "Female"], "male": ["M", "Male", "m", "M"]}
    rows = []
    for i in range(n):
        p = sim[sim["i"] == i].set_index("week")
        b = p.loc[0]
        dob = b["date"] - pd.Timedelta(days=int(b["age"] * 365.25 + rng.integers(30, 330)))
        row = {
            "Participant ID": f"P{i + 1:03d}",
            "Name": f"Test Person {i + 1:02d}",
            "Date of birth": dob.strftime("%Y-%m-%d"),
            "Phone": f"555-01{i + 1:02d}",
            "Group": str(rng.choice(spell_group[b["group"]])),
            "Sex": str(rng.choice(spell_sex[b["sex"]])),
            "Age": str(int(b["age"])),
            "Body mass (kg)": f1(b["mass"]),
        }
        for w in WEEKS:
            v = p.loc[w]
            tag = "baseline" if w == 0 else f"wk{w}"
            row[f"Date wk{w}"] = v["date"].strftime("%Y-%m-%d")
            row[f"Pain {tag}"] = f1(v["pain"])
            row[f"HipAbd_L_{w}wk (lb)"] = f1(v["str_l"] * LB_PER_N)
            row[f"HipAbd_R_{w}wk (lb)"] = f1(v["str_r"] * LB_PER_N)
            row[f"AKPS wk{w}"] = str(int(round(v["akps"])))
            row[f"LEFS wk{w}"] = str(int(round(v["lefs"])))
        row["Notes"] = ""
        rows.append(row)
    df = pd.DataFrame(rows)
    at = lambda pid: df.index[df["Participant ID"] == pid][0]  # noqa: E731

    def blank_visits(pid: str, weeks: tuple[int, ...]) -> None:
        for w in weeks:
            tag = "baseline" if w == 0 else f"wk{w}"
            for c in (f"Date wk{w}", f"Pain {tag}", f"HipAbd_L_{w}wk (lb)", f"HipAbd_R_{w}wk (lb)",
                      f"AKPS wk{w}", f"LEFS wk{w}"):
                df.loc[at(pid), c] = ""

    # Deliberate problems (each is listed in README.md).
    df.loc[at("P005"), "Pain wk2"] = "n/a"                       # missing token
    df.loc[at("P006"), "AKPS wk4"] = "refused"                   # missing token
    df.loc[at("P006"), "Notes"] = "declined questionnaire at wk4"
    df.loc[at("P007"), "Participant ID"] = " p007"               # id: stray space, lower case
    df.loc[at("P008"), "Participant ID"] = "P008 "               # id: trailing space
    df.loc[at("P009"), "LEFS wk2"] = "abc"                       # text in a numeric column
    df.loc[at("P010"), "Pain wk4"] = "15"                        # impossible: VAS is 0-10 cm
    df.loc[at("P011"), "HipAbd_R_2wk (lb)"] = "-5"               # impossible: negative force
    df.loc[at("P012"), "Group"] = "@SUM(1)"                      # formula-like text in a category
    df.loc[at("P013"), "HipAbd_L_6wk (lb)"] = "150 N"            # cell unit beats header unit
    # formula-like free text
    df.loc[at("P014"), "Notes"] = '=HYPERLINK("http://example.invalid/p014","scan")'
    df.loc[at("P015"), "AKPS wk2"] = "=AVERAGE(70,74)"           # formula in a numeric column
    df.loc[at("P016"), "Body mass (kg)"] = "154 lb"              # pounds in a kg column
    df.loc[at("P017"), "Body mass (kg)"] = "72,5"                # decimal comma in a '.' file
    df.loc[at("P018"), "Body mass (kg)"] = "11 st"               # unit not known (stones)
    p019 = pd.Timestamp(df.loc[at("P019"), "Date wk0"])
    # week-4 visit on day 37: 9 days late
    df.loc[at("P019"), "Date wk4"] = (p019 + pd.Timedelta(days=37)).strftime("%Y-%m-%d")
    df.loc[at("P019"), "Notes"] = "wk4 visit rebooked (holiday)"
    df.loc[at("P020"), "Date wk2"] = "2024-02-30"                # impossible date
    df.loc[at("P021"), "Sex"] = "X"                              # sex value not in the vocabulary
    blank_visits("P023", WEEKS)                                  # enrolled, never measured
    df.loc[at("P023"), "Notes"] = "withdrew before baseline testing"
    blank_visits("P024", (4, 6))                                 # dropout after week 2
    df.loc[at("P024"), "Notes"] = "lost to follow-up"
    blank_visits("P025", (6,))                                   # dropout after week 4
    blank_visits("P026", (2, 4, 6))                              # baseline only
    df.loc[at("P027"), "LEFS wk2"] = ""                          # scattered blank cells
    df.loc[at("P028"), "HipAbd_R_4wk (lb)"] = ""
    df.loc[at("P029"), "Pain wk6"] = "N/A"
    # A row without an id (its values are real-looking but cannot be attributed).
    noid = df.loc[at("P040")].copy()
    noid["Participant ID"] = ""
    noid["Name"] = "Test Person 41"
    noid["Phone"] = "555-0141"
    noid["Notes"] = "id not entered"
    # One participant row exported twice, exactly.
    dup = df.loc[[at("P022")]]
    out = pd.concat([df.iloc[: at("P022") + 1], dup, df.iloc[at("P022") + 1 :], noid.to_frame().T],
                    ignore_index=True)
    return out


# -- 2. long follow-up export (semicolon, decimal comma, cp1252) -----------------------------
def clinic_long(rng: np.random.Generator) -> pd.DataFrame:
    n = 15
    groups = list(rng.permutation(["HIP"] * 8 + ["KNEE"] * 7))
    sim = simulate(rng, n, groups)
    visit_label = {0: "Baseline", 2: "Week 2", 4: "wk4", 6: "6 weeks"}
    side_spell = {"left": ["L", "L", "left", "Left"], "right": ["R", "R", "Right", "right"]}
    rows = []
    for i in range(n):
        p = sim[sim["i"] == i].set_index("week")
        b = p.loc[0]
        pid = f"C{101 + i}"
        site = "Montréal" if i % 3 else "Sherbrooke"
        last = 4 if pid == "C114" else 6                            # C114 drops out after week 4
        for w in WEEKS:
            if w > last:
                continue
            v = p.loc[w]
            for side, s_str, s_sls in (("left", "str_l", "sls_l"), ("right", "str_r", "sls_r")):
                rows.append({
                    "Subject": pid, "Site": site, "Group": b["group"], "Sex": b["sex"][0].upper(),
                    "Age": str(int(b["age"])), "Body mass (kg)": f1(b["mass"], ","),
                    "Visit": visit_label[w], "Visit date": v["date"].strftime("%d/%m/%Y"),
                    "Side": str(rng.choice(side_spell[side])),
                    "HHD abduction (kg)": f1(v[s_str] * KGF_PER_N, ","),
                    "VAS (mm)": str(int(round(v["pain"] * 10))),
                    "LEFS": str(int(round(v["lefs"]))),
                    "Timed up and go (s)": f1(v["tug"], ","),
                    "6MWT (m)": str(int(round(v["mwt"]))),
                    "Single leg stance (s)": f1(v[s_sls], ","),
                })
    df = pd.DataFrame(rows)

    def where(pid: str, visit: str, side_first: str) -> int:
        side_ok = df["Side"].str.upper().str.startswith(side_first)
        m = (df["Subject"] == pid) & (df["Visit"] == visit) & side_ok
        return df.index[m][0]

    extra = []
    # Exact duplicate row.
    extra.append((where("C103", "Week 2", "L"), df.loc[where("C103", "Week 2", "L")].copy()))
    # Conflicting duplicate: same subject, visit and side, another strength reading.
    r = df.loc[where("C106", "wk4", "R")].copy()
    r["HHD abduction (kg)"] = f1(float(r["HHD abduction (kg)"].replace(",", ".")) + 2.3, ",")
    extra.append((where("C106", "wk4", "R"), r))
    # Unrecognised visit label.
    r = df.loc[where("C108", "6 weeks", "L")].copy()
    r["Visit"] = "visit 9"
    extra.append((where("C108", "6 weeks", "R"), r))
    # Unknown side value on a row of participant-level tests.
    r = df.loc[where("C110", "Week 2", "R")].copy()
    r["Side"] = "both"
    r["HHD abduction (kg)"] = ""
    r["Single leg stance (s)"] = ""
    extra.append((where("C110", "Week 2", "R"), r))
    # One visit entered on two rows: strength on the first, balance on the second (complementary).
    k = where("C112", "6 weeks", "L")
    r = df.loc[k].copy()
    for c in ("HHD abduction (kg)", "VAS (mm)", "LEFS", "Timed up and go (s)", "6MWT (m)"):
        r[c] = ""
    df.loc[k, "Single leg stance (s)"] = ""
    extra.append((k, r))
    # A late follow-up that is not on the 0/2/4/6 schedule.
    for sd in ("L", "R"):
        r = df.loc[where("C102", "6 weeks", sd)].copy()
        d = pd.to_datetime(r["Visit date"], format="%d/%m/%Y") + pd.Timedelta(days=42)
        r["Visit"] = "12 weeks"
        r["Visit date"] = d.strftime("%d/%m/%Y")
        extra.append((where("C102", "6 weeks", "R"), r))
    # '-' as a missing-value token.
    k = where("C104", "wk4", "L")
    df.loc[k, "Timed up and go (s)"] = "-"
    df.loc[k, "6MWT (m)"] = "-"
    k = where("C104", "wk4", "R")
    df.loc[k, "Timed up and go (s)"] = "-"
    df.loc[k, "6MWT (m)"] = "-"
    # Insert each extra row right after its anchor (stable order, reproducible).
    order = [(float(idx), df.loc[idx]) for idx in df.index]
    for j, (anchor, row) in enumerate(extra):
        order.append((anchor + 0.5 + j * 1e-3, row))
    order.sort(key=lambda t: t[0])
    return pd.DataFrame([r for _, r in order]).reset_index(drop=True)


# -- 3. REDCap flat export ------------------------------------------------------------------------
def redcap(rng: np.random.Generator) -> pd.DataFrame:
    n = 8
    groups = list(rng.permutation(["HIP"] * 4 + ["KNEE"] * 4))
    sim = simulate(rng, n, groups)
    events = {0: "baseline_arm_1", 2: "week_2_arm_1", 4: "week_4_arm_1", 6: "week_6_arm_1"}
    rows = []
    for i in range(n):
        p = sim[sim["i"] == i].set_index("week")
        rid = f"R{201 + i}"
        for w in WEEKS:
            if rid == "R207" and w == 6:      # dropout: no week-6 event
                continue
            v = p.loc[w]
            rows.append({
                "record_id": rid,
                "redcap_event_name": events[w],
                "redcap_repeat_instrument": "",
                "redcap_repeat_instance": "",
                # demographics are collected at the baseline event only (as REDCap exports them)
                "sex": ("1" if v["sex"] == "female" else "2") if w == 0 else "",
                "nprs": str(int(round(v["pain"]))),
                "akps": str(int(round(v["akps"]))),
                "hip_abd_strength_n": f1((v["str_l"] + v["str_r"]) / 2),
                "assessment_complete": "2",
            })
    df = pd.DataFrame(rows)
    # An incomplete form: AKPS not filled in, form status 0 (Incomplete).
    k = df.index[(df["record_id"] == "R205") & (df["redcap_event_name"] == "week_4_arm_1")][0]
    df.loc[k, ["akps", "assessment_complete"]] = ["", "0"]
    return df


MAPPING_YML = """\
# Mapping file for redcap_export.csv (MADE-UP example data; see README.md).
#
# REDCap "raw" exports hold coded values: sex is 1/2 here. hipkit cannot guess what a code means,
# so this file says it. Headers (record_id, redcap_event_name, nprs, akps, hip_abd_strength_n) and
# REDCap event names (baseline_arm_1, week_2_arm_1, ...) are recognised without a mapping;
# redcap_repeat_* and *_complete bookkeeping columns are ignored automatically.
#
#   hipkit clean datasets/raw/redcap_export.csv --map datasets/raw/mapping_example.yml \\
#       --out datasets/clean/redcap_clean.csv
values:
  sex: {"1": female, "2": male}
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                    help="folder to write into (default: the folder of this script)")
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)

    wide = clinic_wide(rng)
    wide.to_csv(out / "clinic_export_messy.csv", index=False, lineterminator="\n", encoding="utf-8")

    long = clinic_long(rng)
    # A Windows clinic system: semicolons, decimal commas, cp1252, CRLF line ends.
    long.to_csv(out / "clinic_followup_long.csv", index=False, sep=";", lineterminator="\r\n",
                encoding="cp1252")

    rc = redcap(rng)
    rc.to_csv(out / "redcap_export.csv", index=False, lineterminator="\n", encoding="utf-8")

    (out / "mapping_example.yml").write_text(MAPPING_YML, encoding="utf-8", newline="\n")
    for name in ("clinic_export_messy.csv", "clinic_followup_long.csv", "redcap_export.csv",
                 "mapping_example.yml"):
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
