"""Score submission.csv (PassengerId,Transported) against answer.csv: accuracy.

Transported may be True/False (any case) or 1/0. Prints one JSON object on
its last line, e.g. {"accuracy": 0.7240}. A submission with missing,
duplicate or unknown ids or values that are not booleans is rejected with a
clear message.
"""
import argparse
import json
import os
import sys

import pandas as pd

BOOL = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


def fail(msg):
    print(f"submission rejected: {msg}", file=sys.stderr)
    sys.exit(1)


ap = argparse.ArgumentParser()
ap.add_argument("--pred", required=True)
ap.add_argument("--answer", required=True)
args = ap.parse_args()

if not os.path.exists(args.pred):
    fail(f"{os.path.basename(args.pred)} does not exist: train.py must write it into the workspace")
try:
    pred = pd.read_csv(args.pred, dtype=str, keep_default_na=False)
except Exception as e:
    fail(f"{os.path.basename(args.pred)} is not a readable CSV file: {e}")
truth = pd.read_csv(args.answer, dtype=str, keep_default_na=False)

for col in ("PassengerId", "Transported"):
    if col not in pred.columns:
        fail(f"column {col!r} missing: want columns PassengerId,Transported (found {', '.join(map(str, pred.columns))})")
if len(pred) != len(truth):
    fail(f"{len(pred)} rows, want {len(truth)} (one per row of data/test.csv)")
values = pred["Transported"].str.strip().str.lower().map(BOOL)
if values.isna().any():
    bad = pred.loc[values.isna(), "Transported"].iloc[0]
    fail(f"{int(values.isna().sum())} Transported values are not True/False, e.g. {bad!r}")
ids = pred["PassengerId"].str.strip()
if (ids == "").any():
    fail("some PassengerIds are empty")
if ids.duplicated().any():
    fail(f"duplicate PassengerIds, e.g. {ids[ids.duplicated()].iloc[0]}")
missing = set(truth["PassengerId"]) - set(ids)
if missing:
    fail(f"{len(missing)} test passengers have no prediction, e.g. {sorted(missing)[0]}")

want = truth["Transported"].str.strip().str.lower().map(BOOL)
merged = pd.DataFrame({"PassengerId": truth["PassengerId"], "want": want}).merge(
    pd.DataFrame({"PassengerId": ids, "got": values}), on="PassengerId")
# Per-example output for mlrc's paired bootstrap over the test examples,
# when mlrc asks for it (MLRC_PER_EXAMPLE names the file to write).
if os.environ.get("MLRC_PER_EXAMPLE"):
    pd.DataFrame({"id": merged["PassengerId"], "label": merged["want"], "prediction": merged["got"]}).to_csv(os.environ["MLRC_PER_EXAMPLE"], index=False)
print(json.dumps({"accuracy": round(float((merged["want"] == merged["got"]).mean()), 6)}))
