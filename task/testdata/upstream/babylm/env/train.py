import transformers
import datasets

print('train')
