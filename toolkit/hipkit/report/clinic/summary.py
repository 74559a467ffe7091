"""The clinic report's words: the key findings on its first screen, and its references.

Every number in these sentences is turned into text by :mod:`hipkit.report.format`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...registry import load_registry
from .. import format as fmt
from .data import FUNCTION_MEASURES, PAIN_MEASURES, STRENGTH, ClinicData

__all__ = ["headline", "references"]


def headline(cd: ClinicData, flow: pd.DataFrame, change: pd.DataFrame, resp: pd.DataFrame) -> list[str]:
    """The report's key numbers as short sentences (what the first screen says).

    Parameters
    ----------
    cd : ClinicData
    flow, change, resp : pandas.DataFrame
        From :func:`participant_flow`, :func:`change_from_baseline`, :func:`responder_rates`.

    Returns
    -------
    list of str
    """
    out = []
    f = flow.loc[flow["group"] == "all"]
    enrolled = f.loc[f["stage"] == "enrolled", "n"].iloc[0]
    done = f.loc[f["stage"] == "completed"].iloc[0]
    out.append(f"{enrolled} patients enrolled; {done['n']} seen at the final visit (week {fmt.week(done['week'])}).")
    final = max(cd.programme_weeks)
    reg = load_registry()
    for m in [*PAIN_MEASURES, *FUNCTION_MEASURES, STRENGTH]:
        part = change.loc[(change["measure"] == m) & (change["week"] == final)].dropna(subset=["mean_change"])
        for _, r in part.iterrows():
            values = [v for v in (r["mean_change"], r["conf_low"], r["conf_high"]) if pd.notna(v)]
            est = fmt.number(r["mean_change"], values, signed=True)
            if pd.isna(r["conf_low"]) or pd.isna(r["conf_high"]):
                ci = "95% CI not estimable"
            else:
                ci = f"95% CI {fmt.number(r['conf_low'], values, True)} to {fmt.number(r['conf_high'], values, True)}"
            name = fmt.short_label(m, unit=False)
            out.append(
                f"{name}, {r['group']}: mean change by week {fmt.week(final)} {est} {reg[m].unit} ({ci}; n = {r['n']})."
            )
    for _, r in resp.dropna(subset=["proportion"]).iterrows():
        if r["measure"] in PAIN_MEASURES:
            name, unit = fmt.short_label(r["measure"], unit=False), reg[r["measure"]].unit
            ci = f"95% CI {fmt.percent(r['conf_low'])} to {fmt.percent(r['conf_high'])}"
            out.append(
                f"{name}, {r['group']}: {fmt.percent(r['proportion'])} reached the MCID of {r['mcid']:g} {unit} ({ci})."
            )
    return out


def references(measures: Sequence[str]) -> list[str]:
    """Sources of the MCIDs/MDCs used and of the methods, as reference lines.

    Parameters
    ----------
    measures : sequence of str

    Returns
    -------
    list of str
    """
    reg = load_registry()
    lines = []
    for m in measures:
        for src in (reg[m].mcid_source, reg[m].mdc_source, reg[m].sem_source):
            if src and src not in lines:
                lines.append(src)
    lines += [
        "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. "
        "J Am Stat Assoc 22:209-212. (Wilson intervals for proportions.)",
        "Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related estimators. "
        "J Educ Stat 6:107-128. (Hedges' g.)",
        "Curran PJ, Bauer DJ (2011). The disaggregation of within-person and between-person effects in "
        "longitudinal models of change. Annu Rev Psychol 62:583-619. (Person-mean centring.)",
        "Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using lme4. "
        "J Stat Softw 67(1). (The model formulation hipkit follows.)",
        "Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in linear mixed effects "
        "models. J Stat Softw 82(13). (Satterthwaite degrees of freedom.)",
    ]
    return lines
