import subprocess
download_dir = "../env"
subprocess.run(["wget", "https://example.org/babylm/babylm_data.zip"], cwd=download_dir)
subprocess.run(["unzip", "-n", "babylm_data.zip"], cwd=download_dir)
subprocess.run(["rm", "-rf", "babylm_data/babylm_100M"], cwd=download_dir)
