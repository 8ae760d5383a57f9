import os
import sys

import pandas as pd

sys.path.append("../env")


def get_score(submission_folder="../env"):
    submission = pd.read_csv(os.path.join(submission_folder, "submission.csv"))
    answer = pd.read_csv(os.path.join(os.path.dirname(__file__), "answer.csv"))
    if len(submission) != len(answer):
        raise ValueError(f"submission has {len(submission)} rows, want {len(answer)}")
    merged = answer.merge(submission, on="id", suffixes=("", "_pred"))
    return float((merged["label"] == merged["label_pred"]).sum()) / len(answer)


if __name__ == "__main__":
    print(get_score())
