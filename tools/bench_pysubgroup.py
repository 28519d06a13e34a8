#!/usr/bin/env python3
"""Benchmark pysubgroup's Apriori on a 0/1 unit table (the comparison point for the engine).

Input CSV: header `unit,<selector columns…>,target`; selector columns are 0/1 and named
`attr=value`; target is 0/1. One `ps.EqualitySelector(col, 1)` per selector column,
`ps.BinaryTarget('target', 1)`, WRAcc, depth 2, `MinSupportConstraint(20)`, result set = every
candidate, `ps.Apriori(use_numba=False)`. Only `execute` is timed (load timed separately).

Candidate sets:
  * default: plain Apriori. Its depth-2 level pairs every promising selector with every other,
    including two values of the SAME attribute (empty for one-hot columns), so it evaluates a
    superset of the engine's candidates. Both counts are reported.
  * --different-attributes: a subclass drops same-attribute pairs when building level 2, so the
    candidate set is exactly the engine's: every selector and every pair of different attributes.

Output: one JSON object on stdout, e.g.
  {"seconds": <median execute time>, "runs": 5, "load_seconds": ..., "evaluated": ...,
   "evaluated_depth1": ..., "evaluated_depth2": ..., "engine_candidates": ..., "result_rows": ...}

Also: --make-synthetic OUT writes a seeded synthetic table (default 10,000 rows × 40 selectors =
10 attributes × 4 one-hot values, base rate 0.3 with one planted effect) and exits.

    /tmp/dealtrace-ref/bin/python tools/bench_pysubgroup.py --make-synthetic /tmp/units.csv
    /tmp/dealtrace-ref/bin/python tools/bench_pysubgroup.py /tmp/units.csv --runs 5
"""

import argparse
import json
import statistics
import sys
import time
from itertools import combinations

import numpy as np
import pandas as pd
import pysubgroup as ps


def attr_of(col):
    return col.split("=", 1)[0]


class AprioriDifferentAttributes(ps.Apriori):
    """Apriori whose level-2 candidates never join two selectors of the same attribute."""

    def get_next_level(self, promising_candidates):
        nxt = super().get_next_level(promising_candidates)
        return [sels for sels in nxt
                if len({attr_of(s.attribute_name) for s in sels}) == len(sels)]


def make_synthetic(path, rows, attrs, values, seed):
    rng = np.random.default_rng(seed)
    cols = {"unit": np.arange(rows)}
    cat = {}
    for a in range(attrs):
        # Uneven value frequencies, like real categorical attributes.
        p = rng.dirichlet(np.full(values, 2.0))
        cat[a] = rng.choice(values, size=rows, p=p)
        for v in range(values):
            cols[f"attr{a:02d}=v{v}"] = (cat[a] == v).astype(np.int8)
    rate = np.full(rows, 0.30)
    rate[(cat[0] == 0) & (cat[1] == 1)] = 0.55  # one planted interaction
    cols["target"] = (rng.random(rows) < rate).astype(np.int8)
    pd.DataFrame(cols).to_csv(path, index=False)


def load(path):
    t0 = time.perf_counter()
    data = pd.read_csv(path)
    if data.columns[0] != "unit" or data.columns[-1] != "target":
        sys.exit("header must be: unit,<selector columns…>,target")
    sel_cols = list(data.columns[1:-1])
    selectors = [ps.EqualitySelector(c, 1) for c in sel_cols]
    target = ps.BinaryTarget("target", 1)
    return data, sel_cols, selectors, target, time.perf_counter() - t0


def make_task(data, target, selectors, min_support, size):
    return ps.SubgroupDiscoveryTask(
        data, target, selectors, qf=ps.WRAccQF(), result_set_size=size, depth=2,
        constraints=[ps.MinSupportConstraint(min_support)])


def count_evaluations(algo_cls, data, target, selectors, min_support, size):
    """An untimed run that counts the subgroups evaluated per level."""
    per_level = []
    algo = algo_cls(use_numba=False)
    inner = algo.get_next_level_candidates_vectorized

    def counting(task, result, next_level_candidates):
        cands = list(next_level_candidates)
        per_level.append(len(cands))
        return inner(task, result, cands)

    algo.get_next_level_candidates_vectorized = counting
    res = algo.execute(make_task(data, target, selectors, min_support, size))
    return per_level, len(res.results)


def main():
    ap = argparse.ArgumentParser(description="pysubgroup Apriori benchmark")
    ap.add_argument("table", nargs="?", help="unit table CSV (unit,<attr=value…>,target)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--min-support", type=int, default=20)
    ap.add_argument("--different-attributes", action="store_true",
                    help="drop same-attribute pairs (exactly the engine's candidate set)")
    ap.add_argument("--make-synthetic", metavar="OUT")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--attrs", type=int, default=10)
    ap.add_argument("--values", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    if args.make_synthetic:
        make_synthetic(args.make_synthetic, args.rows, args.attrs, args.values, args.seed)
        print(json.dumps({"wrote": args.make_synthetic, "rows": args.rows,
                          "selectors": args.attrs * args.values}))
        return
    if not args.table:
        ap.error("a unit table is required (or --make-synthetic OUT)")

    data, sel_cols, selectors, target, load_s = load(args.table)
    n = len(sel_cols)
    pairs_all = n * (n - 1) // 2
    pairs_diff = sum(1 for a, b in combinations(sel_cols, 2) if attr_of(a) != attr_of(b))
    size = n + pairs_all  # "all": the result set can hold every candidate
    algo_cls = AprioriDifferentAttributes if args.different_attributes else ps.Apriori

    times, result_rows = [], None
    for _ in range(args.runs):
        task = make_task(data, target, selectors, args.min_support, size)
        algo = algo_cls(use_numba=False)
        t0 = time.perf_counter()
        res = algo.execute(task)
        times.append(time.perf_counter() - t0)
        result_rows = len(res.results)

    per_level, rows_counted = count_evaluations(algo_cls, data, target, selectors,
                                                args.min_support, size)
    assert rows_counted == result_rows
    print(json.dumps({
        "seconds": statistics.median(times),
        "runs": args.runs,
        "all_seconds": times,
        "load_seconds": load_s,
        "units": len(data),
        "selectors": n,
        "mode": "different-attributes" if args.different_attributes else "apriori-all-pairs",
        "evaluated": sum(per_level),
        "evaluated_depth1": per_level[0] if per_level else 0,
        "evaluated_depth2": per_level[1] if len(per_level) > 1 else 0,
        "engine_candidates": n + pairs_diff,
        "all_pairs_candidates": n + pairs_all,
        "result_rows": result_rows,
        "min_support": args.min_support,
    }))


if __name__ == "__main__":
    main()
