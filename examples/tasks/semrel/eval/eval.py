"""Score predictions.csv (id,score) against the held-out test scores.

The metric is the Spearman rank correlation, as in SemEval-2024 Task 1 (not
Pearson). Prints one JSON object on its last line, e.g. {"spearman": 0.74}.
A prediction file with missing, duplicate or unknown ids, missing or
non-numeric scores, or constant scores is rejected with a clear message.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import pandas as pd
from scipy.stats import spearmanr


def fail(msg):
    print(f"predictions rejected: {msg}", file=sys.stderr)
    sys.exit(1)


ap = argparse.ArgumentParser()
ap.add_argument("--pred", required=True)
ap.add_argument("--labels", required=True)
args = ap.parse_args()

if not os.path.exists(args.pred):
    fail(f"{os.path.basename(args.pred)} does not exist: train.py must write it into the workspace")
try:
    pred = pd.read_csv(args.pred)
except Exception as e:
    fail(f"{os.path.basename(args.pred)} is not a readable CSV file: {e}")
truth = pd.read_csv(args.labels)

for col in ("id", "score"):
    if col not in pred.columns:
        fail(f"column {col!r} missing: want columns id,score (found {', '.join(map(str, pred.columns))})")
if len(pred) != len(truth):
    fail(f"{len(pred)} rows, want {len(truth)} (one per row of data/test.csv)")
scores = pd.to_numeric(pred["score"], errors="coerce")
if scores.isna().any() or not np.isfinite(scores).all():
    fail(f"{int((~np.isfinite(scores.fillna(np.inf))).sum())} scores are missing, not numbers or infinite")
ids = pd.to_numeric(pred["id"], errors="coerce")
if ids.isna().any():
    fail("ids must be the whole numbers of data/test.csv's id column")
if ids.duplicated().any():
    fail(f"duplicate ids, e.g. {int(ids[ids.duplicated()].iloc[0])}")
missing = set(truth["id"]) - set(ids.astype(int))
if missing:
    fail(f"{len(missing)} test ids have no prediction, e.g. {sorted(missing)[0]}")
if scores.nunique() < 2:
    fail("all scores are equal: a rank correlation is undefined")

merged = truth.merge(pd.DataFrame({"id": ids.astype(int), "score": scores}), on="id")
rho = spearmanr(merged["label"], merged["score"]).correlation
if not math.isfinite(rho):
    fail("the Spearman correlation is undefined for these scores")
# Per-example output for mlrc's paired bootstrap over the test examples,
# when mlrc asks for it (MLRC_PER_EXAMPLE names the file to write).
if os.environ.get("MLRC_PER_EXAMPLE"):
    pd.DataFrame({"id": merged["id"], "label": merged["label"], "prediction": merged["score"]}).to_csv(os.environ["MLRC_PER_EXAMPLE"], index=False)
print(json.dumps({"spearman": round(float(rho), 6)}))
