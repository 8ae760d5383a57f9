"""Score predictions.csv (id,label) against the held-out labels: accuracy.

Prints one JSON object on its last line, e.g. {"accuracy": 0.9611}. A
prediction file with missing, duplicate or unknown ids, missing values or
labels outside 0-9 is rejected with a message saying what is wrong.
"""
import argparse
import json
import os
import sys

import pandas as pd


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
except Exception as e:  # empty or unparsable file
    fail(f"{os.path.basename(args.pred)} is not a readable CSV file: {e}")
truth = pd.read_csv(args.labels)

for col in ("id", "label"):
    if col not in pred.columns:
        fail(f"column {col!r} missing: want columns id,label (found {', '.join(map(str, pred.columns))})")
if len(pred) != len(truth):
    fail(f"{len(pred)} rows, want {len(truth)} (one per row of data/test.csv)")
if pred["id"].isna().any() or pred["label"].isna().any():
    fail(f"{int(pred['id'].isna().sum() + pred['label'].isna().sum())} missing values in id/label")
if pred["id"].duplicated().any():
    fail(f"duplicate ids, e.g. {pred.loc[pred['id'].duplicated(), 'id'].iloc[0]}")
try:
    ids = pred["id"].astype(int)
    labels = pred["label"].astype(float)
except (TypeError, ValueError) as e:
    fail(f"id and label must be whole numbers: {e}")
if ((labels % 1) != 0).any() or not labels.between(0, 9).all():
    fail("labels must be whole numbers 0-9")
missing = set(truth["id"]) - set(ids)
if missing:
    fail(f"{len(missing)} test ids have no prediction, e.g. {sorted(missing)[0]}")

merged = truth.merge(pd.DataFrame({"id": ids, "pred": labels.astype(int)}), on="id")
# Per-example output for mlrc's paired bootstrap over the test examples,
# when mlrc asks for it (MLRC_PER_EXAMPLE names the file to write).
if os.environ.get("MLRC_PER_EXAMPLE"):
    pd.DataFrame({"id": merged["id"], "label": merged["label"], "prediction": merged["pred"]}).to_csv(os.environ["MLRC_PER_EXAMPLE"], index=False)
print(json.dumps({"accuracy": round(float((merged["label"] == merged["pred"]).mean()), 6)}))
