import sys
import os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../env"))
import train
import pandas as pd
from train import smapep1

def get_score(submission_folder="../env"):
    submission_path = os.path.join(submission_folder, "submission.csv")
    solution = pd.read_csv(os.path.join(os.path.dirname(__file__), "answer.csv"))
    submission = pd.read_csv(submission_path)
    s = smapep1(solution["rating"], submission["rating"])
    return s
