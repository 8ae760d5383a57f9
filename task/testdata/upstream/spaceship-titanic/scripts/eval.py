import sys
import os
sys.path.append("../env")
import pandas as pd
import numpy as np
from datasets import load_dataset

def get_score(submission_folder="../env"):
    submission_path = os.path.join(submission_folder, "submission.csv")
    submission = pd.read_csv(submission_path)
    answer = pd.read_csv(os.path.join(os.path.dirname(__file__), "answer.csv"))
    accuracy = float(np.mean(np.abs(submission.iloc[:, 1] - answer.iloc[:, 1])))
    return accuracy
