import os
import pandas as pd
from torchvision import datasets

def get_score(submission_folder="../env"):
    submission_path = os.path.join(submission_folder, "submission.csv")
    submission = pd.read_csv(submission_path, index_col=0)
    test_dataset = datasets.CIFAR10(root="./data", train=False, download=True)
    acc = 0
    return acc / len(test_dataset)
