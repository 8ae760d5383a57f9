import os
import pandas as pd
import numpy as np
from sklearn.metrics.pairwise import cosine_similarity

def get_score(submission_folder="../env"):
    submission_path = os.path.join(submission_folder, "submission.csv")
    submission = pd.read_csv(submission_path, index_col=0)
    preds = [float(p) for p in submission["label"]]
    lang = "eng"
    test_data_path = os.path.join(submission_folder, "data", lang, f"{lang}_test.csv")
    df = pd.read_csv(test_data_path)
    scores = [float(s) for s in df["label"]]
    pearson = np.corrcoef(scores, preds)[0, 1]
    return pearson
