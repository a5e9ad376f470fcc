#!/usr/bin/env python3
"""Small random Hugging Face checkpoints and what transformers computes with them
(Tests/CheckpointFormatsTests/Fixtures/), for `megatron import hf` and `megatron export hf`.

How to run it by hand (CPU only, no model download):

    python3 -m venv /work/venv
    /work/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
    /work/venv/bin/pip install transformers safetensors
    /work/venv/bin/python scripts/reference/checkpoint_fixtures.py           # rewrite the fixtures
    /work/venv/bin/python scripts/reference/checkpoint_fixtures.py --check-export DIR KIND REFERENCE
        # load an exported directory with from_pretrained and compare its logits with REFERENCE
    /work/venv/bin/python scripts/reference/checkpoint_fixtures.py --check-perplexity DIR FILE.h5 SEQUENCE STRIDE
        # transformers' token perplexity of an exported GPT on a prepared evaluation stream (needs h5py)

The committed `export-check.jsonl` holds that check's output for `megatron export hf` of the
imported fixtures (`megatron import hf --from Fixtures/gpt2-tiny --out A.h5`, `megatron export hf
--checkpoint A.h5 --out DIR`, then `--check-export DIR gpt Fixtures/gpt2-tiny-reference.safetensors`;
the same for bert-tiny with `bert`, and for megatron_fixtures.py's pre-LN BERT with `megatron-bert` and
Fixtures/megatron/bert-tiny-reference.safetensors: `megatron-bert-tiny`, and `megatron import megatron
--from Fixtures/megatron/bert-tiny-v3 --vocab-size 100` exported). BERT's check compares the
masked-LM and the sentence-order logits; every check fails when a key is missing or unexpected.

Run it from the repository root. What it writes, from fixed seeds:
- `gpt2-tiny/` (GPT2LMHeadModel) and `bert-tiny/` (BertForPreTraining): config.json and
  model.safetensors as save_pretrained writes them, float32; 2 layers, hidden 16, 4 heads, FFN 64,
  32 positions, vocabulary 100 (so 28 padded rows at our multiple of 128). Every
  parameter is seeded random (matrices N(0, 0.2), layer-norm gains 1 + N(0, 0.1), the rest
  N(0, 0.1)) so that no bias or gain is the trivial 0 or 1.
- `gpt2-tiny-reference.safetensors`, `bert-tiny-reference.safetensors`: inputs (I64) and what
  the float64 copy of the same (float32-exact) weights computes (F64):
  GPT-2: `tokens`, `labels` [2, 7], `logits` [2, 7, 100], `losses` [2, 7] (per-position cross
  entropy); a stream `stream` of 70 tokens scored with stride windows of `stream_sequence` and
  `stream_stride` exactly as Tasks/StrideWindows.swift cuts them (`stream_loss_sum`); six
  LAMBADA-style examples (`lambada_context` / `lambada_target` concatenated, with
  `lambada_context_offsets` / `lambada_target_offsets`), three with greedy targets (decided
  right) and three random, `lambada_correct` (argmax over the 100 real ids at every target
  position) and `lambada_loss_sum` (cross-entropy of the targets).
  BERT: `tokens`, `token_types`, `padding_mask`, `masked_labels` (-1 where unscored),
  `sentence_order_labels`, `mlm_logits` [2, 7, 100], `binary_logits`, `mlm_loss`, `binary_loss`.
- `dtypes.safetensors`: one vector in F64, F32, F16 and BF16 (save_file), with `expected_*` its
  float64 values as torch converts them.
Versions used for the committed files: see `__metadata__` of the reference files.
"""
import json
import math
import os
import sys

import safetensors
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForPreTraining, GPT2Config, GPT2LMHeadModel, MegatronBertForPreTraining

from model_golden import perturb  # the same seeded non-trivial values as the model goldens

OUT = os.path.join("Tests", "CheckpointFormatsTests", "Fixtures")
LAYERS, HIDDEN, HEADS, FFN, VOCAB, POSITIONS = 2, 16, 4, 64, 100, 32
BATCH, SEQUENCE = 2, 7
STREAM, STREAM_SEQUENCE, STREAM_STRIDE = 70, 16, 4
CLS, SEP, MASK, PAD = 1, 2, 3, 0


def metadata():
    return {"format": "pt", "generated_by": "scripts/reference/checkpoint_fixtures.py",
            "torch_version": str(torch.__version__), "transformers_version": transformers.__version__,
            "safetensors_version": safetensors.__version__}


def save(model, name):
    directory = os.path.join(OUT, name)
    model.float().save_pretrained(directory, safe_serialization=True)
    for extra in ("generation_config.json",):
        path = os.path.join(directory, extra)
        if os.path.exists(path):
            os.remove(path)
    return model.double().eval()


def stride_windows(count, sequence, stride):
    """Tasks/StrideWindows.swift: (start, length, first scored position) of each window."""
    targets = count - 1
    windows = 1 + max(0, (targets - sequence + stride - 1) // stride)
    return [(i * stride, min(sequence, targets - i * stride), 0 if i == 0 else sequence - stride)
            for i in range(windows)]


def gpt2():
    generator = torch.Generator().manual_seed(2024)
    config = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS,
                        n_inner=FFN, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config)
    perturb(model, generator)
    model = save(model, "gpt2-tiny")
    window = torch.randint(0, VOCAB, (BATCH, SEQUENCE + 1), generator=generator)
    tokens, labels = window[:, :-1], window[:, 1:]
    with torch.no_grad():
        logits = model(input_ids=tokens).logits
        losses = F.cross_entropy(logits.reshape(-1, VOCAB), labels.reshape(-1), reduction="none").reshape(BATCH, SEQUENCE)
        stream = torch.randint(0, VOCAB, (STREAM,), generator=generator)
        loss_sum = torch.zeros((), dtype=torch.float64)
        for start, length, first in stride_windows(STREAM, STREAM_SEQUENCE, STREAM_STRIDE):
            out = model(input_ids=stream[start:start + length][None]).logits[0]
            target = stream[start + 1:start + length + 1]
            loss_sum += F.cross_entropy(out[first:length], target[first:length], reduction="sum")
        contexts, targets, correct, lambada_loss = [], [], [], torch.zeros((), dtype=torch.float64)
        for e in range(6):
            context = torch.randint(0, VOCAB, (5 + 3 * e,), generator=generator)
            if e % 2 == 0:      # greedy: each target token is the argmax after the ones before
                sequence = context.clone()
                for _ in range(1 + e % 3):
                    next_id = model(input_ids=sequence[None]).logits[0, -1].argmax()
                    sequence = torch.cat([sequence, next_id[None]])
                target = sequence[len(context):]
            else:
                target = torch.randint(0, VOCAB, (1 + e % 3,), generator=generator)
            full = torch.cat([context, target])
            out = model(input_ids=full[None, :-1]).logits[0, len(context) - 1:]
            correct.append(int(bool((out.argmax(-1) == target).all())))
            lambada_loss += F.cross_entropy(out, target, reduction="sum")
            contexts.append(context)
            targets.append(target)
    offsets = lambda parts: torch.tensor([0] + [sum(len(p) for p in parts[:i + 1]) for i in range(len(parts))])
    reference = {
        "tokens": tokens, "labels": labels, "logits": logits, "losses": losses,
        "stream": stream, "stream_sequence": torch.tensor([STREAM_SEQUENCE]), "stream_stride": torch.tensor([STREAM_STRIDE]),
        "stream_loss_sum": loss_sum.reshape(1),
        "lambada_context": torch.cat(contexts), "lambada_context_offsets": offsets(contexts),
        "lambada_target": torch.cat(targets), "lambada_target_offsets": offsets(targets),
        "lambada_correct": torch.tensor(correct), "lambada_loss_sum": lambada_loss.reshape(1),
    }
    write_reference(reference, "gpt2-tiny-reference.safetensors")
    print(f"gpt2-tiny: stream loss {loss_sum.item():.6f}, LAMBADA decisions {correct}")


def bert():
    generator = torch.Generator().manual_seed(2025)
    config = BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                        intermediate_size=FFN, max_position_embeddings=POSITIONS, type_vocab_size=2,
                        hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=PAD)
    model = BertForPreTraining(config)
    perturb(model, generator)
    model = save(model, "bert-tiny")
    original = torch.randint(5, VOCAB, (BATCH, SEQUENCE), generator=generator)
    original[0, [0, 3, 6]] = torch.tensor([CLS, SEP, SEP])
    original[1, [0, 2, 4, 5, 6]] = torch.tensor([CLS, SEP, SEP, PAD, PAD])
    padding_mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2])
    token_types = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0]])
    loss_mask = torch.zeros(BATCH, SEQUENCE, dtype=torch.long)
    loss_mask[0, [1, 4, 5]] = 1
    loss_mask[1, [3]] = 1
    tokens = original.clone()
    tokens[0, 1] = MASK
    tokens[0, 5] = MASK
    tokens[1, 3] = MASK
    masked_labels = torch.where(loss_mask == 1, original, torch.full_like(original, -1))
    sentence_order = torch.tensor([0, 1])
    with torch.no_grad():
        out = model(input_ids=tokens, token_type_ids=token_types, attention_mask=padding_mask)
        mlm = F.cross_entropy(out.prediction_logits.reshape(-1, VOCAB), masked_labels.reshape(-1), ignore_index=-1)
        binary = F.cross_entropy(out.seq_relationship_logits, sentence_order)
    write_reference({"tokens": tokens, "token_types": token_types, "padding_mask": padding_mask,
                     "masked_labels": masked_labels, "sentence_order_labels": sentence_order,
                     "mlm_logits": out.prediction_logits, "binary_logits": out.seq_relationship_logits,
                     "mlm_loss": mlm.reshape(1), "binary_loss": binary.reshape(1)}, "bert-tiny-reference.safetensors")
    print(f"bert-tiny: mlm {mlm.item():.6f}, binary {binary.item():.6f}")


def write_reference(tensors, name):
    tensors = {k: (v.double() if v.is_floating_point() else v.long()).contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(OUT, name), metadata=metadata())


def dtypes():
    values = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.140625, 65504.0, 1e-7, 6.1e-5, -1e-3, 1234.5678, 1e30, -7.0e-39],
                          dtype=torch.float64)
    tensors = {}
    for name, dtype in (("F64", torch.float64), ("F32", torch.float32), ("F16", torch.float16), ("BF16", torch.bfloat16)):
        tensors[name] = values.to(dtype).clone()
        tensors["expected_" + name] = values.to(dtype).to(torch.float64).clone()
    tensors["I64"] = torch.tensor([-3, 0, 7, 2 ** 40], dtype=torch.int64)
    tensors["I32"] = torch.tensor([-3, 0, 7, 2 ** 30], dtype=torch.int32)
    tensors["matrix"] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    tensors["scalar"] = torch.tensor(4.5, dtype=torch.float32)
    save_file(tensors, os.path.join(OUT, "dtypes.safetensors"), metadata=metadata())


EXPORT_CLASSES = {"gpt": GPT2LMHeadModel, "bert": BertForPreTraining, "megatron-bert": MegatronBertForPreTraining}


def check_export(directory, kind, reference_path):
    """Loads our exported directory with from_pretrained (every weight from the file: no key
    missing or unexpected), recomputes the reference's logits: GPT's, BERT's masked-LM and
    sentence-order ones."""
    reference = load_file(reference_path)
    model, loading = EXPORT_CLASSES[kind].from_pretrained(directory, output_loading_info=True)
    model = model.double().eval()
    with torch.no_grad():
        if kind == "gpt":
            pairs = {"logits": (model(input_ids=reference["tokens"]).logits, reference["logits"])}
        else:
            out = model(input_ids=reference["tokens"], token_type_ids=reference["token_types"],
                        attention_mask=reference["padding_mask"])
            pairs = {"prediction_logits": (out.prediction_logits, reference["mlm_logits"]),
                     "seq_relationship_logits": (out.seq_relationship_logits, reference["binary_logits"])}
    difference = max(((ours - expected).abs().max() / expected.abs().max()).item() for ours, expected in pairs.values())
    keys = sorted(loading["missing_keys"]) + sorted(loading["unexpected_keys"])
    print(json.dumps({"directory": directory, "class": type(model).__name__, "compared": list(pairs),
                      "max_relative_difference": difference, "missing_or_unexpected_keys": keys,
                      "transformers_version": transformers.__version__}))
    return difference if not keys else math.inf


def check_perplexity(directory, token_file, sequence, stride):
    """transformers' token-level perplexity of an exported GPT on an evaluation stream
    (`megatron prepare wikitext --split eval` file), windows cut as Tasks/StrideWindows.swift
    cuts them: to compare with `megatron eval --task wikitext103`'s token_ppl."""
    import h5py
    from transformers import GPT2TokenizerFast
    with h5py.File(token_file, "r") as f:
        stream = torch.tensor(f["tokens"][:].astype("int64"))
    model = GPT2LMHeadModel.from_pretrained(directory).double().eval()
    tokenizer = GPT2TokenizerFast.from_pretrained(directory)
    loss_sum, count = 0.0, 0
    with torch.no_grad():
        for start, length, first in stride_windows(len(stream), int(sequence), int(stride)):
            out = model(input_ids=stream[start:start + length][None]).logits[0]
            target = stream[start + 1:start + length + 1]
            loss_sum += F.cross_entropy(out[first:length], target[first:length], reduction="sum").item()
            count += length - first
    print(json.dumps({"directory": directory, "data": token_file, "sequence": int(sequence), "stride": int(stride),
                      "token_ppl": math.exp(loss_sum / count), "targets": count, "tokenizer_vocab": len(tokenizer),
                      "transformers_version": transformers.__version__}))


def main():
    if sys.argv[1:2] == ["--check-export"]:
        sys.exit(0 if check_export(*sys.argv[2:5]) < 1e-12 else 1)
    if sys.argv[1:2] == ["--check-perplexity"]:
        check_perplexity(*sys.argv[2:6])
        return
    if not os.path.isdir(OUT):
        sys.exit(f"{OUT} not found: run this from the repository root")
    torch.use_deterministic_algorithms(True)
    gpt2()
    bert()
    dtypes()


if __name__ == "__main__":
    main()
