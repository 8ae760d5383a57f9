from torchvision import datasets
download_dir = "../env"
train_dataset = datasets.CIFAR10(root=f"{download_dir}/data", train=True, download=True)
