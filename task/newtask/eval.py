"""Score predictions.csv against the held-out labels.

Written by `mlrc task new`. Prints one JSON object with every standard
metric the predictions allow: accuracy, f1 (macro), auc and log_loss (from
the p_<class> probability columns) for classification; rmse, mae and r2 for
regression.

When mlrc asks for it (MLRC_PER_EXAMPLE names a file), it also writes its
per-example output for the paired bootstrap over the test examples: id,
label, prediction and, for classification with probabilities, the p_<class>
columns exactly as scored, so that mlrc recomputes any of these metrics
(AUC and log loss included) on each resample.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import pandas as pd
from sklearn import metrics

ap = argparse.ArgumentParser()
ap.add_argument("--pred", required=True)
ap.add_argument("--labels", required=True)
ap.add_argument("--id", required=True)
ap.add_argument("--target", required=True)
ap.add_argument("--kind", choices=["classification", "regression"], required=True)
args = ap.parse_args()

labels = pd.read_csv(args.labels)
try:
    pred = pd.read_csv(args.pred)
except FileNotFoundError:
    sys.exit(f"{args.pred} does not exist: the experiment must write predictions.csv with columns {args.id} and prediction")
for col in (args.id, "prediction"):
    if col not in pred.columns:
        sys.exit(f"predictions.csv has no column {col!r} (it has {', '.join(map(str, pred.columns))})")
if pred[args.id].duplicated().any():
    sys.exit("predictions.csv repeats an id")
m = labels.merge(pred, on=args.id, how="left", suffixes=("", "_pred"))
if m["prediction"].isna().any():
    sys.exit(f"predictions.csv lacks {int(m['prediction'].isna().sum())} of the {len(labels)} test ids")
y = m[args.target]
out = {}
per_example = pd.DataFrame({"id": m[args.id], "label": y, "prediction": m["prediction"]})
if args.kind == "classification":
    yp = m["prediction"].astype(str)
    ys = y.astype(str)
    out["accuracy"] = float(metrics.accuracy_score(ys, yp))
    out["f1"] = float(metrics.f1_score(ys, yp, average="macro"))
    classes = sorted(ys.unique())
    pcols = [f"p_{c}" for c in classes]
    if all(c in m.columns for c in pcols):
        p = m[pcols].to_numpy(dtype=float)
        p = np.clip(p, 1e-15, 1)
        p = p / p.sum(axis=1, keepdims=True)
        for k, c in enumerate(pcols):
            per_example[c] = p[:, k]
        out["log_loss"] = float(metrics.log_loss(ys, p, labels=classes))
        if len(classes) == 2:
            out["auc"] = float(metrics.roc_auc_score(ys == classes[1], p[:, 1]))
        else:
            out["auc"] = float(metrics.roc_auc_score(ys, p, multi_class="ovr", labels=classes))
else:
    yp = m["prediction"].astype(float)
    out["rmse"] = float(math.sqrt(metrics.mean_squared_error(y, yp)))
    out["mae"] = float(metrics.mean_absolute_error(y, yp))
    out["r2"] = float(metrics.r2_score(y, yp))
if os.environ.get("MLRC_PER_EXAMPLE"):
    per_example.to_csv(os.environ["MLRC_PER_EXAMPLE"], index=False, float_format="%.17g")
print(json.dumps(out))
