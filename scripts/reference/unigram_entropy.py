"""The loss of a masked-LM that ignores context: the entropy, in nats, of the token distribution
of a prepared BERT training file (`megatron prepare bert`), the level a BERT's masked-LM loss
sits at while it predicts every masked token from the corpus's token frequencies alone.
Usage: python unigram_entropy.py data/wt2-train-bert.h5   (needs h5py)
"""
import sys

import h5py
import numpy as np

for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        tokens = f["tokens"][:]
    counts = np.bincount(tokens.astype(np.int64))
    p = counts[counts > 0] / tokens.size
    print(f"{path}: {tokens.size} tokens, {p.size} distinct, unigram entropy {-(p * np.log(p)).sum():.4f} nats")
