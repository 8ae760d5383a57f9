"""Score submission.csv (Id,SalePrice) against answer.csv: mean absolute error.

Prints one JSON object on its last line, e.g. {"mae": 21900.5}. A submission
with missing, duplicate or unknown ids or missing, non-numeric or infinite
prices is rejected with a clear message.
"""
import argparse
import json
import os
import sys

import numpy as np
import pandas as pd


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
    pred = pd.read_csv(args.pred)
except Exception as e:
    fail(f"{os.path.basename(args.pred)} is not a readable CSV file: {e}")
truth = pd.read_csv(args.answer)

for col in ("Id", "SalePrice"):
    if col not in pred.columns:
        fail(f"column {col!r} missing: want columns Id,SalePrice (found {', '.join(map(str, pred.columns))})")
if len(pred) != len(truth):
    fail(f"{len(pred)} rows, want {len(truth)} (one per row of data/test.csv)")
price = pd.to_numeric(pred["SalePrice"], errors="coerce")
bad = price.isna() | ~np.isfinite(price.fillna(0))
if bad.any():
    fail(f"{int(bad.sum())} prices are missing, not numbers or infinite (e.g. row {int(bad.idxmax()) + 2} of the file)")
ids = pd.to_numeric(pred["Id"], errors="coerce")
if ids.isna().any():
    fail("Id must be the whole numbers of data/test.csv's Id column")
if ids.duplicated().any():
    fail(f"duplicate Ids, e.g. {int(ids[ids.duplicated()].iloc[0])}")
missing = set(truth["Id"]) - set(ids.astype(int))
if missing:
    fail(f"{len(missing)} test Ids have no prediction, e.g. {sorted(missing)[0]}")

merged = truth.merge(pd.DataFrame({"Id": ids.astype(int), "pred": price}), on="Id")
mae = float(np.mean(np.abs(merged["SalePrice"] - merged["pred"])))
# Per-example output for mlrc's paired bootstrap over the test examples,
# when mlrc asks for it (MLRC_PER_EXAMPLE names the file to write).
if os.environ.get("MLRC_PER_EXAMPLE"):
    pd.DataFrame({"id": merged["Id"], "label": merged["SalePrice"], "prediction": merged["pred"]}).to_csv(os.environ["MLRC_PER_EXAMPLE"], index=False)
print(json.dumps({"mae": round(mae, 2)}))
