import sys
import os
sys.path.append(os.path.join(os.path.dirname(__file__), "../env"))
from metric import score
import pandas as pd

def get_score(submission_folder="../env"):
    submission_path = os.path.join(submission_folder, "submission.csv")
    solution = pd.read_csv(os.path.join(os.path.dirname(__file__), "answer.csv"))
    submission = pd.read_csv(submission_path)
    s = score(solution, submission)
    return s
