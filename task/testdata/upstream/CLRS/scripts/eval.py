import os
import sys
import clrs
import jax
import requests
sys.path.append(os.path.abspath(os.path.join(os.path.dirname(__file__), "../env")))
from baselines import BaselineModel

CLRS_URL = "https://storage.example.org/clrs/CLRS30_v1.0.0.tar.gz"

def _maybe_download_dataset(path):
    request = requests.get(CLRS_URL, allow_redirects=True)
    open(path, "wb").write(request.content)

def get_score(submission_folder="../env"):
    _maybe_download_dataset("data.tar.gz")
    test_acc = 0.0
    return test_acc
