#!/usr/bin/env python3
"""Reference figures for the pattern engine on a real dataset (Maven Analytics CRM).

Reads the RAW dataset files (not the dealtrace cache, not deals_joined.csv):

    tests/fixtures/real/maven_crm/sales_pipeline.csv
    tests/fixtures/real/maven_crm/accounts.csv
    tests/fixtures/real/maven_crm/sales_teams.csv

plus the skills file the engine runs with (tests/fixtures/real/maven_crm/skills.toml: its
persona, phrase-list and segment ids), and writes tests/fixtures/real/maven_crm/reference.json
with every candidate the engine should test, computed with scipy / statsmodels / lifelines under
the engine's definitions (docs: /work/shared/STATS-AND-CRATES.md §5, and tools/README.md):

  * timestamps are midnight UTC, in seconds; DAY = 86400;
  * cutoff = newest fact = max over all deals of the created (engage) and close dates;
  * populations: "created" (every deal with a created date, T = created date, landmark 0), plus
    "reached:<stage>" and "reached:<stage>+14d" for each open stage; the import records no entry
    into an open stage (only a closed deal's closing stage, on its close date), so those are
    empty and the engine skips them: "created" is the only population. Deals closed strictly
    before T are excluded and counted;
  * binary outcomes slipped / won / lost / discount_pressure / stalled with window W = 90 days: eligible
    iff T + W·DAY <= cutoff; won (lost) is entering a won (lost) stage in (T, T + W·DAY], the
    close date being the entry time into the closing stage. A CSV of deals has no close-date or
    amount history and no activities, so slipped, discount_pressure and stalled (21 days
    without two-way activity, undefined without activities) have no event: their
    margin (K >= 10) fails and they are not tested;
  * selectors, over the population's units:
      - the activity signals single_threaded, slipped_before, engaged:<persona>,
        live:<persona with live_days>, mentioned:<phrase list> (ids from the skills file); with
        no contacts, activities or close-date history, single_threaded is true for every unit
        and the others are false for every unit. A selector true for no unit or for every unit
        is no selector (as a one-valued attribute gives none), so none of them remains;
      - each categorical skills segment -> one per distinct value (an attribute with exactly 2
        values gets only the rarer one, ties -> lexicographically first; 1 value -> none);
        units without a value are unexposed;
      - each numeric skills segment (revenue, employees, year_established; `numeric = true`)
        -> its thirds <id>=low|mid|high: a value is a number when the stripped text matches
        Rust's f64 syntax and is finite (anything else is missing); with at least 3 numbers,
        c1, c2 = numpy.quantile(numbers, [1/3, 2/3]) (linear) over the population's units with
        a number (outcome-blind), x <= c1 -> low, x <= c2 -> mid, else high; units without a
        number are in no third. A third holding no unit or every unit is no selector;
  * candidates: every selector and every pair of selectors of different attributes; condition =
    selector names sorted lexicographically, joined with " & ";
  * binary support: N >= 60, n1 >= 20, n0 >= 20, K >= 10, N - K >= 10;
  * productive rule (depth 2, before BH): for A & B in (population, outcome), within A's
    eligible units compare B vs not-B (a = |A&B&Y|, n1 = |A&B|, c = |A&Y| - a,
    n0 = |A| - n1), Fisher two-sided p_A, and likewise within B (p_B). Productive iff both
    sub-tables have n0 > 0, p1 != p0 and p1 > p0 exactly when the pattern's own p1 > p0, and
    p_A < 0.05 / k_A and p_B < 0.05 / k_B, where k_X = number of tested depth-2 candidates in
    the same (population, outcome) containing X. An unproductive candidate keeps its own p but
    enters BH with p = 1 (still counted in m);
  * survival "decay" (depth-1 selectors only, all units of the population): duration =
    floor((t_end - T)/DAY), t_end = first of entering a lost stage (event) or censoring at
    entering a won stage / the cutoff / T + 180·DAY (an event tied with a censoring time counts
    as the event; no activities, so going stale is not an event); support: >= 20 units per
    group and >= 10 events in total;
  * family = every tested binary and survival candidate; BH q-values over the whole family of
    the p-values after the productive rule;
  * insufficient = candidates failing support, counted as the engine does: per selector and
    per outcome (the four binary ones) at depth 1, per pair and outcome at depth 2, and per
    selector for decay.

Usage (see tools/README.md):

    python3 -m venv /tmp/dealtrace-ref
    /tmp/dealtrace-ref/bin/pip install -r tools/requirements.txt
    /tmp/dealtrace-ref/bin/python tools/reference.py [--out PATH]
"""

import argparse
import itertools
import json
import math
import os
import re
import sys
import tomllib

import numpy as np
import pandas as pd
import scipy
import scipy.stats as ss
import statsmodels
import lifelines
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy.stats.contingency import relative_risk
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "real", "maven_crm"))
SKILLS = os.path.join(DATA, "skills.toml")

DAY = 86400
WINDOW_DAYS = 90
SURVIVAL_HORIZON_DAYS = 180
Z = 1.959963984540054  # Phi^-1(0.975)

# Attribute names are the deal-property names assets/mappings/maven-crm.toml stores, and the
# segment ids (source "deal", same property name) of the skills file, in the file's order:
# the categorical ones, then the numeric ones (`numeric = true`, split into thirds).
CATEGORICAL = ["product", "sector", "office_location", "subsidiary_of", "manager", "regional_office"]
NUMERIC = ["revenue", "employees", "year_established"]
BANDS = ["low", "mid", "high"]
# The text Rust's `str::parse::<f64>` reads as a finite number (its "inf"/"nan" spellings are
# not finite, so they are left out): optional sign, digits with an optional point, exponent.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# The engine's binary outcomes, in its order.
BINARY_OUTCOMES = ["slipped", "won", "lost", "discount_pressure", "stalled"]
PRODUCTIVE_ALPHA = 0.05
WON_STAGES = {"Won"}
LOST_STAGES = {"Lost"}

SUPPORT_BINARY = {"N": 60, "n1": 20, "n0": 20, "K": 10, "N_minus_K": 10}
SUPPORT_SURVIVAL = {"per_group": 20, "events": 10}


# --------------------------------------------------------------------------------------------
# Loading (raw files)
# --------------------------------------------------------------------------------------------

def to_secs(col):
    """ISO date strings -> seconds since epoch at midnight UTC (NaN-able float -> Int64)."""
    ts = pd.to_datetime(col, format="%Y-%m-%d", utc=True)
    out = pd.Series(pd.NA, index=col.index, dtype="Int64")
    ok = ts.notna()
    out[ok] = (ts[ok].astype("int64") // 10**9).astype("int64")
    return out


def load(data_dir):
    sp = pd.read_csv(os.path.join(data_dir, "sales_pipeline.csv"), dtype=str, keep_default_na=False)
    ac = pd.read_csv(os.path.join(data_dir, "accounts.csv"), dtype=str, keep_default_na=False)
    st = pd.read_csv(os.path.join(data_dir, "sales_teams.csv"), dtype=str, keep_default_na=False)
    df = sp.merge(ac, on="account", how="left", validate="many_to_one")
    df = df.merge(st[["sales_agent", "manager", "regional_office"]], on="sales_agent",
                  how="left", validate="many_to_one")
    assert len(df) == len(sp)
    for c in CATEGORICAL + NUMERIC + ["account"]:
        df[c] = df[c].fillna("")
    df["created"] = to_secs(df["engage_date"].replace("", None))
    df["closed_at"] = to_secs(df["close_date"].replace("", None))
    return df


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------

def activity_signals(skills):
    """The engine's selectors from activities and field history, in its order."""
    names = ["single_threaded", "slipped_before"]
    for p in skills.get("personas", []):
        names.append(f"engaged:{p['id']}")
        if "live_days" in p:
            names.append(f"live:{p['id']}")
    names += [f"mentioned:{l['id']}" for l in skills.get("phrases", [])]
    return names


def build_selectors(pop, skills):
    """-> (selectors: {attr: [name]}, masks: {name: bool array}, attr_of: {name: attr},
    constant: [names of signals dropped for holding for no unit or every unit],
    cuts: {numeric attr: [c1, c2]})."""
    selectors, masks, attr_of, constant, cuts = {}, {}, {}, [], {}
    n = len(pop)
    # No contacts, activities or close-date history in a CSV of deals: at most one contact
    # (none) took part, so single_threaded holds for every unit; every other signal for none.
    for name in activity_signals(skills):
        mask = np.full(n, name == "single_threaded")
        if not mask.any() or mask.all():
            constant.append(name)
            continue
        masks[name] = mask
        attr_of[name] = name
        selectors[name] = [name]
    for attr in CATEGORICAL:
        vals = pop[attr]
        present = vals[vals != ""]
        counts = present.value_counts()
        distinct = sorted(counts.index)
        if len(distinct) <= 1:
            chosen = []
        elif len(distinct) == 2:
            # The value with fewer units; ties -> lexicographically first.
            chosen = [min(distinct, key=lambda v: (counts[v], v))]
        else:
            chosen = distinct
        names = []
        for v in chosen:
            name = f"{attr}={v}"
            masks[name] = (vals == v).to_numpy()
            attr_of[name] = attr
            names.append(name)
        selectors[attr] = names
    for attr in NUMERIC:
        numbers = np.array([number(v) for v in pop[attr]], dtype=float)
        has = ~np.isnan(numbers)
        names = []
        # Thirds of fewer than three numbers are not thirds (the engine's rule for amounts too).
        if has.sum() >= 3:
            c1, c2 = np.quantile(numbers[has], [1 / 3, 2 / 3])  # method="linear", numpy's default
            band = np.where(numbers <= c1, 0, np.where(numbers <= c2, 1, 2))
            for b, word in enumerate(BANDS):
                mask = has & (band == b)
                if not mask.any() or mask.all():
                    continue
                name = f"{attr}={word}"
                masks[name] = mask
                attr_of[name] = attr
                names.append(name)
            cuts[attr] = [float(c1), float(c2)]
        selectors[attr] = names
    return selectors, masks, attr_of, constant, cuts


def number(text):
    """A property's text as a finite float, or NaN for missing: what the engine's segment
    reader accepts (surrounding white space stripped, Rust's f64 syntax, finite)."""
    text = text.strip()
    if not NUMBER.fullmatch(text):
        return math.nan
    x = float(text)
    return x if math.isfinite(x) else math.nan


def candidates(selectors, masks, attr_of, depth2=True):
    names = sorted(masks)
    out = [((n,), masks[n]) for n in names]
    if depth2:
        for a, b in itertools.combinations(names, 2):
            if attr_of[a] != attr_of[b]:
                out.append((tuple(sorted((a, b))), masks[a] & masks[b]))
    return [(" & ".join(sel), sel, m) for sel, m in out]


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------

def wilson(x, n):
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    lo, hi = max(0.0, float(lo)), min(1.0, float(hi))
    # Spec §5.3: exact bounds at the edges.
    if x == 0:
        lo = 0.0
    if x == n:
        hi = 1.0
    return [lo, hi]


def binary_stats(a, b, c, d):
    n1, n0 = a + b, c + d
    N, K = n1 + n0, a + c
    table = [[a, b], [c, d]]
    fisher_p = float(ss.fisher_exact(table).pvalue)
    chi = ss.chi2_contingency(np.array(table), correction=False)
    haldane = min(a, b, c, d) == 0
    if haldane:
        # statsmodels' shift_zeros=True only shifts the zero cells; the spec adds 0.5 to all four.
        t = Table2x2(np.asarray(table, dtype=float) + 0.5, shift_zeros=False)
        rr = float(t.riskratio)
        lo, hi = (float(v) for v in t.riskratio_confint(alpha=0.05))
    else:
        r = relative_risk(a, n1, c, n0)
        rr = float(r.relative_risk)
        ci = r.confidence_interval(confidence_level=0.95)
        lo, hi = float(ci.low), float(ci.high)
    rd_lo, rd_hi = confint_proportions_2indep(a, n1, c, n0, method="newcomb", compare="diff",
                                              alpha=0.05)
    p1, p0 = a / n1, c / n0
    return {
        "n_exposed": n1, "n_unexposed": n0, "events_exposed": a, "events_unexposed": c,
        "a": a, "b": b, "c": c, "d": d,
        "rr": rr, "ci_low": lo, "ci_high": hi, "haldane": haldane,
        "p": fisher_p,
        "chi2": float(chi.statistic), "chi2_p": float(chi.pvalue),
        "p1": p1, "p0": p0,
        "wilson_exposed": wilson(a, n1), "wilson_unexposed": wilson(c, n0),
        "rd": p1 - p0, "rd_ci": [float(rd_lo), float(rd_hi)],
        "lift": a * N / (n1 * K),
        "wracc": (n1 / N) * (p1 - K / N),
    }


def within_parent(a, n1, parent_units, parent_events, risk):
    """The productive sub-test within a parent: the pattern's exposed units (a events of n1)
    against the parent's other units. -> (Fisher two-sided p, same side as the pattern)."""
    c = parent_events - a
    n0 = parent_units - n1
    p = float(ss.fisher_exact([[a, n1 - a], [c, n0 - c]]).pvalue)
    p1 = a / n1
    p0 = c / n0 if n0 else 0.0
    same_side = n0 > 0 and p1 != p0 and (p1 > p0) == risk
    return p, same_side


def km_summary(dur, ev):
    kmf = KaplanMeierFitter().fit(dur, event_observed=ev)
    med = float(kmf.median_survival_time_)
    s = kmf.survival_function_at_times([30, 60, 90]).to_numpy()
    return {
        "median": None if math.isinf(med) else med,
        "s30": float(s[0]), "s60": float(s[1]), "s90": float(s[2]),
    }


def peto(dur1, ev1, dur0, ev0):
    """O1, E1, V over the pooled distinct event times (spec §5.9), and the Peto HR + CI."""
    dur = np.concatenate([dur1, dur0])
    ev = np.concatenate([ev1, ev0]).astype(bool)
    grp1 = np.concatenate([np.ones(len(dur1), bool), np.zeros(len(dur0), bool)])
    O1 = E1 = V = 0.0
    for t in np.unique(dur[ev]):
        at_risk = dur >= t
        n = int(at_risk.sum())
        n1 = int((at_risk & grp1).sum())
        dj = int(((dur == t) & ev).sum())
        O1 += int(((dur == t) & ev & grp1).sum())
        E1 += dj * n1 / n
        if n > 1:
            V += dj * (n1 / n) * (1 - n1 / n) * (n - dj) / (n - 1)
    lhr = (O1 - E1) / V
    return O1, E1, V, math.exp(lhr), [math.exp(lhr - Z / math.sqrt(V)),
                                      math.exp(lhr + Z / math.sqrt(V))]


# --------------------------------------------------------------------------------------------
# Spec-formula cross-checks (printed, not written): they flag any library/spec disagreement.
# --------------------------------------------------------------------------------------------

def spec_fisher(a, b, c, d):
    n1, N, K = a + b, a + b + c + d, a + c
    h = ss.hypergeom(N, K, n1)
    xs = np.arange(max(0, n1 - (N - K)), min(n1, K) + 1)
    pmf = h.pmf(xs)
    pa = h.pmf(a)
    return min(1.0, float(pmf[pmf <= pa * (1 + 1e-7)].sum()))


def spec_wilson(x, n):
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    return [0.0 if x == 0 else lo, 1.0 if x == n else hi]


def spec_katz(a, b, c, d):
    if min(a, b, c, d) == 0:
        a, b, c, d = a + .5, b + .5, c + .5, d + .5
    n1, n0 = a + b, c + d
    rr = (a / n1) / (c / n0)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    return rr, rr * math.exp(-Z * se), rr * math.exp(Z * se)


def rel(x, y):
    return abs(x - y) / max(abs(x), abs(y), 1e-300) if (x or y) else 0.0


# --------------------------------------------------------------------------------------------

def write_json(path, doc):
    """Pretty top level, one candidate per line (small diffs); floats as repr (full precision)."""
    head = {k: v for k, v in doc.items() if k != "candidates"}
    text = json.dumps(head, indent=1, allow_nan=False)
    rows = ",\n  ".join(json.dumps(r, allow_nan=False) for r in doc["candidates"])
    text = text[:-2] + ',\n "candidates": [\n  ' + rows + "\n ]\n}\n"
    json.loads(text)  # well-formed
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DATA, help="directory holding the raw Maven CSV files")
    ap.add_argument("--skills", default=SKILLS, help="the skills file the engine runs with")
    ap.add_argument("--out", default=os.path.join(DATA, "reference.json"))
    ap.add_argument("--unit-table", metavar="CSV",
                    help="also write the eligible units of --unit-outcome as a 0/1 table for "
                         "tools/bench_pysubgroup.py (unit,<selector…>,target)")
    ap.add_argument("--unit-outcome", default="won", choices=["won", "lost"])
    args = ap.parse_args()

    with open(args.skills, "rb") as f:
        skills = tomllib.load(f)
    segments = [(s["id"], s["source"], s["property"], s.get("numeric", False))
                for s in skills.get("segments", [])]
    expected = [(a, "deal", a, False) for a in CATEGORICAL] + [(a, "deal", a, True) for a in NUMERIC]
    if segments != expected:
        sys.exit(f"{args.skills}: its segments must be the deal properties {CATEGORICAL} and then "
                 f"the numeric ones {NUMERIC}, in that order, each with id = property; found "
                 f"{segments}")

    df = load(args.data)
    facts = pd.concat([df["created"], df["closed_at"]]).dropna()
    cutoff = int(facts.max())

    has_created = df["created"].notna()
    base = df[has_created].copy()
    deals = len(base)
    T = base["created"].astype("int64").to_numpy()
    closed = base["closed_at"].to_numpy(dtype="float64", na_value=np.nan)
    closed_before = np.nan_to_num(closed, nan=np.inf) < T
    pop = base[~closed_before].reset_index(drop=True)
    T = T[~closed_before]
    closed = closed[~closed_before]
    stage = pop["deal_stage"].to_numpy()
    is_won = np.isin(stage, list(WON_STAGES))
    is_lost = np.isin(stage, list(LOST_STAGES))

    # Binary outcomes.
    W = WINDOW_DAYS * DAY
    eligible = T + W <= cutoff
    N = int(eligible.sum())
    in_window = (closed > T) & (closed <= T + W)  # NaN compares False
    no_event = np.zeros(len(pop), bool)  # no close-date / amount history, no activities
    outcome = {"slipped": no_event, "won": is_won & in_window, "lost": is_lost & in_window,
               "discount_pressure": no_event, "stalled": no_event}
    # The family-level margin: an outcome failing it is not tested at all.
    margin_ok = {o: N >= 60 and 10 <= int(outcome[o][eligible].sum()) <= N - 10
                 for o in BINARY_OUTCOMES}

    # Survival outcome.
    H = SURVIVAL_HORIZON_DAYS * DAY
    censor_at = np.minimum(cutoff, T + H).astype(float)
    censor_at = np.where(is_won, np.minimum(censor_at, closed), censor_at)
    event = is_lost & (closed <= censor_at)  # a tie with a censoring time counts as the event
    t_end = np.where(event, closed, censor_at)
    duration = np.floor((t_end - T) / DAY).astype(int)
    assert (duration >= 0).all()

    selectors, masks, attr_of, constant, cuts = build_selectors(pop, skills)
    results = []
    insufficient = {o: 0 for o in BINARY_OUTCOMES + ["decay"]}

    for name, sel, mask in candidates(selectors, masks, attr_of, depth2=True):
        x = mask[eligible]
        for out in BINARY_OUTCOMES:
            y = outcome[out][eligible]
            n1 = int(x.sum())
            n0 = N - n1
            K = int(y.sum())
            if not (margin_ok[out] and n1 >= 20 and n0 >= 20):
                insufficient[out] += 1
                continue
            a = int((x & y).sum())
            b, c = n1 - a, K - a
            d = n0 - c
            row = {"population": "created", "outcome": out, "condition": name,
                   "selectors": list(sel), "depth": len(sel)}
            row.update(binary_stats(a, b, c, d))
            results.append(row)

    # The productive rule (depth 2), per (population, outcome): k_X counts the tested depth-2
    # candidates holding X.
    k = {}
    for r in results:
        if r["depth"] == 2:
            for s in r["selectors"]:
                key = (r["population"], r["outcome"], s)
                k[key] = k.get(key, 0) + 1
    for r in results:
        if r["depth"] != 2:
            r["p_bh"] = r["p"]
            continue
        y = outcome[r["outcome"]] & eligible
        risk = r["p1"] > r["p0"]
        within = []
        for parent, other in (r["selectors"], r["selectors"][::-1]):
            units = int((masks[parent] & eligible).sum())
            events = int((masks[parent] & y).sum())
            p, same = within_parent(r["a"], r["n_exposed"], units, events, risk)
            kx = k[(r["population"], r["outcome"], parent)]
            within.append({"parent": parent, "other": other, "units": units, "events": events,
                           "p": p, "same_side": same, "k": kx,
                           "passes": bool(same and p < PRODUCTIVE_ALPHA / kx)})
        r["within"] = within
        r["productive"] = all(w["passes"] for w in within)
        r["p_bh"] = r["p"] if r["productive"] else 1.0

    for name, sel, mask in candidates(selectors, masks, attr_of, depth2=False):
        n1, n0 = int(mask.sum()), int((~mask).sum())
        ev_total = int(event.sum())
        if not (n1 >= 20 and n0 >= 20 and ev_total >= 10):
            insufficient["decay"] += 1
            continue
        d1, e1 = duration[mask], event[mask]
        d0, e0 = duration[~mask], event[~mask]
        lr = logrank_test(d1, d0, event_observed_A=e1, event_observed_B=e0)
        O1, E1, V, hr, hr_ci = peto(d1, e1, d0, e0)
        a, c = int(e1.sum()), int(e0.sum())
        results.append({
            "population": "created", "outcome": "decay", "condition": name,
            "selectors": list(sel), "depth": 1,
            "n_exposed": n1, "n_unexposed": n0,
            "events_exposed": a, "events_unexposed": c,
            "a": a, "b": n1 - a, "c": c, "d": n0 - c,
            "hr": hr, "hr_ci": hr_ci,
            "logrank_chi2": float(lr.test_statistic), "logrank_p": float(lr.p_value),
            "logrank_o1": O1, "logrank_e1": E1, "logrank_v": V,
            "p": float(lr.p_value), "p_bh": float(lr.p_value),
            "km_exposed": km_summary(d1, e1), "km_unexposed": km_summary(d0, e0),
        })

    # BH over the whole family (binary Fisher p and survival log-rank p), unproductive
    # depth-2 candidates entering with p = 1.
    results.sort(key=lambda r: (r["population"], r["outcome"], r["condition"]))
    if results:
        q = multipletests([r["p_bh"] for r in results], alpha=0.10, method="fdr_bh")[1]
        for r, qi in zip(results, q):
            r["q"] = float(qi)

    # ---- cross-checks against the spec formulas (stdout only) ---------------------------------
    worst = {"fisher": 0.0, "fisher_within": 0.0, "wilson": 0.0, "katz": 0.0,
             "logrank_chi2": 0.0}
    for r in results:
        if r["outcome"] == "decay":
            worst["logrank_chi2"] = max(worst["logrank_chi2"], rel(
                r["logrank_chi2"], (r["logrank_o1"] - r["logrank_e1"]) ** 2 / r["logrank_v"]))
            continue
        a, b, c, d = r["a"], r["b"], r["c"], r["d"]
        worst["fisher"] = max(worst["fisher"], rel(r["p"], spec_fisher(a, b, c, d)))
        for w in r.get("within", []):
            wc = w["events"] - a
            wd = w["units"] - (a + b) - wc
            worst["fisher_within"] = max(worst["fisher_within"],
                                         rel(w["p"], spec_fisher(a, b, wc, wd)))
        for got, want in zip(r["wilson_exposed"] + r["wilson_unexposed"],
                             spec_wilson(a, a + b) + spec_wilson(c, c + d)):
            worst["wilson"] = max(worst["wilson"], rel(got, want))
        for got, want in zip((r["rr"], r["ci_low"], r["ci_high"]), spec_katz(a, b, c, d)):
            worst["katz"] = max(worst["katz"], rel(got, want))

    tested_by_outcome = {o: sum(r["outcome"] == o for r in results)
                         for o in BINARY_OUTCOMES + ["decay"]}
    depth2 = [r for r in results if r["depth"] == 2]
    doc = {
        "dataset": "Maven Analytics CRM + Sales + Opportunities (sales_pipeline.csv, accounts.csv,"
                   " sales_teams.csv); see SOURCE.md",
        "generator": "tools/reference.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "pandas": pd.__version__, "scipy": scipy.__version__,
                     "statsmodels": statsmodels.__version__, "lifelines": lifelines.__version__},
        "definitions": {
            "day_seconds": DAY, "window_days": WINDOW_DAYS,
            "survival_horizon_days": SURVIVAL_HORIZON_DAYS, "landmark_days": 0,
            "created": "engage_date", "won_stages": sorted(WON_STAGES),
            "lost_stages": sorted(LOST_STAGES), "binary_outcomes": BINARY_OUTCOMES,
            "skills": "tests/fixtures/real/maven_crm/skills.toml",
            "support_binary": SUPPORT_BINARY, "support_survival": SUPPORT_SURVIVAL,
            "binary_p": "fisher two-sided (scipy)", "survival_p": "log-rank (lifelines)",
            "productive": "depth 2: both within-parent Fisher p < 0.05 / k_parent, same side; "
                          "unproductive enter BH with p = 1",
            "fdr": "BH over all tested candidates (statsmodels multipletests fdr_bh)",
        },
        "attributes": {"categorical": CATEGORICAL, "numeric": NUMERIC},
        "cutoff": cutoff,
        "populations": {"created": {
            "deals": deals,
            "units": len(pop),
            "closed_before_landmark": int(closed_before.sum()),
            "eligible": N,
            "window_open": int(len(pop) - N),
            "events": {**{o: int(outcome[o][eligible].sum()) for o in BINARY_OUTCOMES},
                       "decay": int(event.sum())},
            "outcomes_tested": [o for o in BINARY_OUTCOMES if margin_ok[o]] + ["decay"],
            # Units each selector holds, tested or not: checks every third's cut exactly.
            "selector_units": {n: int(masks[n].sum()) for attr in selectors
                               for n in selectors[attr]},
        }},
        "tested": len(results),
        "tested_by_outcome": tested_by_outcome,
        "depth2_tested": len(depth2),
        "depth2_productive": sum(r["productive"] for r in depth2),
        "discoveries_q10": sum(r["q"] <= 0.10 for r in results),
        "insufficient": sum(insufficient.values()),
        "insufficient_by_outcome": insufficient,
        "constant_signals": constant,
        "selectors": selectors,
        "tertile_cuts": cuts,
        "candidates": results,
    }
    write_json(args.out, doc)
    if args.unit_table:
        names = [n for attr in selectors for n in selectors[attr]]
        table = pd.DataFrame({"unit": pop["opportunity_id"].to_numpy()[eligible]})
        for n in names:
            table[n] = masks[n][eligible].astype(int)
        table["target"] = outcome[args.unit_outcome][eligible].astype(int)
        table.to_csv(args.unit_table, index=False)
        print(f"wrote {args.unit_table}: {len(table)} units x {len(names)} selectors")

    print(f"cutoff {cutoff} ({pd.Timestamp(cutoff, unit='s', tz='UTC').date()})")
    print(f"population created: units {len(pop)}, eligible {N}, "
          f"window_open {len(pop) - N}, closed_before {int(closed_before.sum())}")
    print(f"selectors {sum(len(v) for v in selectors.values())}: "
          + ", ".join(f"{k} {len(v)}" for k, v in selectors.items() if v)
          + f"; constant signals dropped: {len(constant)}")
    print("tertile cuts: " + ", ".join(f"{k} {c[0]!r} / {c[1]!r}" for k, c in cuts.items()))
    print(f"tested m = {len(results)} {tested_by_outcome}; insufficient {insufficient}")
    print(f"depth 2: {len(depth2)} tested, {doc['depth2_productive']} productive")
    print(f"discoveries q<=0.10: {doc['discoveries_q10']}")
    print("max rel. diff library vs spec formula:",
          ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
