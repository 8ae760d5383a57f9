from datasets import load_dataset
import shutil
import os

lan = "eng"
download_dir = os.path.join("../env/data", lan)
if os.path.exists(download_dir):
    shutil.rmtree(download_dir)
os.makedirs(download_dir)
dataset = load_dataset("SemRel/SemRel2024", lan, split=["train", "dev", "test"])
