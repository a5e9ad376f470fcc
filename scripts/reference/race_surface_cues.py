"""Surface cues on a prepared RACE file, independently of the Swift code: how many questions a
reader that never reads gets right by picking the longest option, or the option whose tokens
occur most in the passage. Each choice's sequence is, as Megatron's RACE builds it, [CLS] the
question with the option [SEP] (token type 0), then the passage [SEP] (type 1); the option is the
part of the type-0 segment where the choices differ (all choices' common prefix and suffix removed, so fill-in-the-blank questions
keep the words after the blank out). Ties go to the lowest choice, as argmax does.
Usage: python race_surface_cues.py data/race-m-dev.h5 [...]   (needs h5py)
"""
import sys

import h5py
import numpy as np


def option_parts(segments):
    prefix = 0
    while all(len(s) > prefix for s in segments) and len({s[prefix] for s in segments}) == 1:
        prefix += 1
    suffix = 0
    while all(len(s) > prefix + suffix for s in segments) and len({s[len(s) - 1 - suffix] for s in segments}) == 1:
        suffix += 1
    return [s[prefix:len(s) - suffix] for s in segments]


def cues(path):
    with h5py.File(path, "r") as f:
        tokens, types, offsets = f["tokens"][:], f["token_types"][:], f["doc_offsets"][:]
        labels, choices = f["labels"][:], int(f.attrs["num_choices"])
    longest = overlap = 0
    for q, label in enumerate(labels):
        passages, segments = [], []
        for c in range(choices):
            start, end = offsets[q * choices + c], offsets[q * choices + c + 1]
            t, y = tokens[start:end], types[start:end]
            segments.append(tuple(t[y == 0].tolist()))
            passages.append(set(t[y == 1].tolist()))
        options = option_parts(segments)
        lengths = [len(o) for o in options]
        shares = [sum(tok in p for tok in o) / len(o) if o else 0.0 for o, p in zip(options, passages)]
        longest += int(np.argmax(lengths) == label)
        overlap += int(np.argmax(shares) == label)
    return len(labels), longest, overlap


for path in sys.argv[1:]:
    n, longest, overlap = cues(path)
    print(f"{path}: {n} questions, longest option right {longest} ({longest / n:.4f}), "
          f"most passage overlap right {overlap} ({overlap / n:.4f})")
