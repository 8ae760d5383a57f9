"""Baseline for semantic textual relatedness: word-overlap Dice coefficient.

score = 2 |A ∩ B| / (|A| + |B|) over the sets of lower-cased word tokens of
the two sentences. No training: the dev split is only used to report the
Spearman correlation. Writes predictions.csv (id,score) for data/test.csv.
Randomness, if you add any, should come from MLRC_SEED (default 0).
"""
import os
import re

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

SEED = int(os.environ.get("MLRC_SEED", "0"))
np.random.seed(SEED)

TOKEN = re.compile(r"\w+")


def tokens(s):
    return set(TOKEN.findall(str(s).lower()))


def dice(a, b):
    ta, tb = tokens(a), tokens(b)
    if not ta and not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


def predict(df):
    return np.array([dice(a, b) for a, b in zip(df["sentence1"], df["sentence2"])])


dev = pd.read_csv("data/dev.csv", keep_default_na=False)
print(f"dev Spearman: {spearmanr(dev['label'], predict(dev)).correlation:.4f}")

test = pd.read_csv("data/test.csv", keep_default_na=False)
pd.DataFrame({"id": test["id"], "score": predict(test)}).to_csv("predictions.csv", index=False)
print(f"wrote predictions.csv ({len(test)} rows)")
