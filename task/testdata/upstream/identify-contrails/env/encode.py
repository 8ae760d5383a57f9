import numpy as np

def rle_encode(x):
    return ''

def rle_decode(s):
    return np.zeros(1)
