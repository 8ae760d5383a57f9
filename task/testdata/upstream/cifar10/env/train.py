import torch
from torchvision import datasets

print('train')
