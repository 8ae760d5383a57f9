from datasets import load_dataset
import torch
import pandas as pd

if __name__ == "__main__":
    imdb = load_dataset("imdb")
    # TODO: preprocess data
    model = None  # TODO: define model here
