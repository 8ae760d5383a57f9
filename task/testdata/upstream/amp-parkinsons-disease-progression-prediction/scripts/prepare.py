import subprocess
import pandas as pd

taskname = "amp-parkinsons-disease-progression-prediction"
download_dir = "../env"

input(f"Accept the rules of https://www.kaggle.com/competitions/{taskname}/data, then press a key")
subprocess.run(["kaggle", "competitions", "download", "-c", taskname], cwd=download_dir)
subprocess.run(["unzip", "-n", f"{taskname}.zip"], cwd=download_dir)
subprocess.run(["rm", f"{taskname}.zip"], cwd=download_dir)
subprocess.run(["rm", "-r", "amp_pd_peptide"], cwd=download_dir)
