#!/usr/bin/env python3
"""Pre-join the Maven Analytics CRM files into one deals CSV that `dealtrace import csv` can load.

`dealtrace import csv` reads a single deals file (plus optional history / contacts / activities
files); it has no companies file and cannot attach properties to companies or owners. So the
account attributes (accounts.csv) and the sales-team attributes (sales_teams.csv) are copied onto
each opportunity row here and imported as *deal* properties.

Standard library only (no pandas), so it runs anywhere:

    python3 tools/make_joined.py            # rewrites tests/fixtures/real/maven_crm/deals_joined.csv

The output is deterministic: the rows of sales_pipeline.csv in file order, LF line endings.
Empty cells stay empty (the importer then stores no property for that deal). Values are copied
verbatim, including the dataset's own spellings ("technolgy", "Philipines", "GTXPro").
"""

import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "fixtures", "real", "maven_crm")

PIPELINE_COLUMNS = [
    "opportunity_id", "sales_agent", "product", "account",
    "deal_stage", "engage_date", "close_date", "close_value",
]
ACCOUNT_COLUMNS = [
    "sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of",
]
TEAM_COLUMNS = ["manager", "regional_office"]


def read(name):
    with open(os.path.join(DATA, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(out_path):
    pipeline = read("sales_pipeline.csv")
    accounts = {r["account"]: r for r in read("accounts.csv")}
    teams = {r["sales_agent"]: r for r in read("sales_teams.csv")}

    header = PIPELINE_COLUMNS + ACCOUNT_COLUMNS + TEAM_COLUMNS
    missing_accounts = set()
    with open(out_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in pipeline:
            row = [r[c] for c in PIPELINE_COLUMNS]
            acc = accounts.get(r["account"]) if r["account"] else None
            if r["account"] and acc is None:
                missing_accounts.add(r["account"])
            row += [(acc[c] if acc else "") for c in ACCOUNT_COLUMNS]
            team = teams[r["sales_agent"]]  # every agent is in sales_teams.csv
            row += [team[c] for c in TEAM_COLUMNS]
            w.writerow(row)
    if missing_accounts:
        sys.exit(f"accounts not in accounts.csv: {sorted(missing_accounts)}")
    print(f"wrote {out_path}: {len(pipeline)} rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(DATA, "deals_joined.csv"))
