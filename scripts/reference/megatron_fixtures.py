#!/usr/bin/env python3
"""Megatron-LM checkpoints of the random GPT-2 of checkpoint_fixtures.py, in Megatron-LM's own
layout and every checkpoint_version's query/key/value order, for `megatron import megatron`
(Tests/CheckpointFormatsTests/Fixtures/megatron/). Run it from the repository root after
checkpoint_fixtures.py, with the same venv (torch, transformers, numpy):

    /work/venv/bin/python scripts/reference/megatron_fixtures.py

The weights are exactly gpt2-tiny's (so gpt2-tiny-reference.safetensors holds what transformers
computes with them), written as Megatron-LM's GPT-2 state dict (`megatron/checkpointing.py`,
`megatron/model/*.py`; ../shared/reference/checkpoint-formats.md section 4) split over
tensor-parallel size 2: word embeddings (padded from 100 to 256 rows, a multiple of 128 x tp,
the padding rows random and large so that a reader letting them into the softmax fails),
dense_h_to_4h by rows, attention.dense and dense_4h_to_h by columns, the fused
query/key/value by heads in the version's row order:
- v0/: `release`, no `args`, no `checkpoint_version` (as NVIDIA's released GPT-2 345M),
  `transformer` / `attention` names, the legacy (pre-1.6) torch.save stream; QKV [3][np][hd].
- v1/: `iter_0000010`, checkpoint_version 1.0, args (model_parallel_size 2), zip; QKV [np][hd][3].
- v2/: `release`, checkpoint_version 2.0, args, zip; QKV [np][3][hd].
- v3/: `iter_0000020`, checkpoint_version 3.0, args (tensor_model_parallel_size 2), v2's
  `encoder` / `self_attention` names, zip, plus RNG state with numpy arrays (placeholders).
- bert-tiny-v3/: a random pre-LN Megatron BERT (transformers' MegatronBertForPreTraining, the
  converter's target, which computes Megatron-LM's BERT: no embedding layer norm, pre-LN layers, a
  final layer norm, the masked-LM head dense -> GeLU -> layer norm -> x E^T + bias, the binary head
  on the tanh pooler), 2 layers, hidden 16, 4 heads, vocabulary 100 (padded to 256, lm_head.bias
  split by rows with the embedding), `iter_0000030`, checkpoint_version 3.0, args, zip; with
  bert-tiny-reference.safetensors: checkpoint_fixtures.py's BERT inputs and what the float64
  model computes (the same keys as ../bert-tiny-reference.safetensors).
- ../megatron-bert-tiny/: that BERT as transformers' save_pretrained writes it (config.json,
  model.safetensors, float32), for `megatron import hf` of a "megatron-bert" directory and
  `megatron export hf` of a pre-LN BERT; bert-tiny-reference.safetensors holds what it computes.
- bert-tiny-v0/, -v1/, -v2/: the same BERT as each older version saved it, with the GPT fixtures'
  trackers, QKV orders and file formats: v0 as NVIDIA's released BERT 345M (`release`, no args, no
  version, legacy stream), v1 and v2 with args' `model_parallel_size`; all three under the
  `transformer` / `attention` names (Megatron-LM at a8d4781 and 9b0083e; `lm_head`, `binary_head`
  and `language_model.pooler` are the same in every version).
Torch's legacy stream keys storages by address and safetensors orders its metadata at random, so
regenerating rewrites v0/, dtypes-legacy.pt, the references' headers (not their data) and
bad/missing-entry.pt (zip times) with other bytes of the same content; the zip fixtures are stable.
And the bad files the reader must refuse by name:
- bad/forbidden-global.pt: a pickle naming collections.Counter;
- bad/missing-entry.pt: a zip without one storage's entry (archive/data/0);
- bad/hidden-contradicts-args/: a tp = 1 checkpoint whose args say hidden 8, tensors hidden 4.
- dtypes.pt (zip) and dtypes-legacy.pt: one vector as float64, float32, float16 and bfloat16
  with `expected_*` float64 copies, and `transposed` (a non-contiguous view) with `expected_transposed`.
"""
import argparse
import collections
import copy
import os
import shutil
import zipfile

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import GPT2LMHeadModel, MegatronBertConfig, MegatronBertForPreTraining

from checkpoint_fixtures import metadata
from model_golden import perturb

OUT = os.path.join("Tests", "CheckpointFormatsTests", "Fixtures", "megatron")
SOURCE = os.path.join("Tests", "CheckpointFormatsTests", "Fixtures", "gpt2-tiny")
MEGATRON_BERT_HF = os.path.join("Tests", "CheckpointFormatsTests", "Fixtures", "megatron-bert-tiny")
TP, PADDED = 2, 256


def megatron_full(model):
    """gpt2-tiny as Megatron's full (unsplit) tensors, QKV rows [3][n][hd], under v1 names."""
    sd = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    hidden = sd["transformer.wte.weight"].shape[1]
    generator = torch.Generator().manual_seed(7)
    padding = 5.0 * torch.randn(PADDED - sd["transformer.wte.weight"].shape[0], hidden, generator=generator)
    full = {"word_embeddings": torch.cat([sd["transformer.wte.weight"], padding]),
            "position_embeddings": sd["transformer.wpe.weight"], "layers": {}}
    layers = model.config.n_layer
    for i in range(layers):
        h = f"transformer.h.{i}."
        full["layers"][i] = {
            "input_layernorm.weight": sd[h + "ln_1.weight"], "input_layernorm.bias": sd[h + "ln_1.bias"],
            "attention.query_key_value.weight": sd[h + "attn.c_attn.weight"].t().contiguous(),
            "attention.query_key_value.bias": sd[h + "attn.c_attn.bias"],
            "attention.dense.weight": sd[h + "attn.c_proj.weight"].t().contiguous(),
            "attention.dense.bias": sd[h + "attn.c_proj.bias"],
            "post_attention_layernorm.weight": sd[h + "ln_2.weight"], "post_attention_layernorm.bias": sd[h + "ln_2.bias"],
            "mlp.dense_h_to_4h.weight": sd[h + "mlp.c_fc.weight"].t().contiguous(),
            "mlp.dense_h_to_4h.bias": sd[h + "mlp.c_fc.bias"],
            "mlp.dense_4h_to_h.weight": sd[h + "mlp.c_proj.weight"].t().contiguous(),
            "mlp.dense_4h_to_h.bias": sd[h + "mlp.c_proj.bias"],
        }
    full["final_layernorm.weight"] = sd["transformer.ln_f.weight"]
    full["final_layernorm.bias"] = sd["transformer.ln_f.bias"]
    return full


def qkv_shard(t, rank, heads, version):
    """Rank `rank`'s rows of the [3][n][hd] tensor t, in `version`'s order."""
    rest = t.shape[1:]
    hd = t.shape[0] // 3 // heads
    local = heads // TP
    mine = t.reshape(3, heads, hd, *rest)[:, rank * local:(rank + 1) * local]   # [3][np][hd]
    if version == 0:
        out = mine
    elif version == 1:
        out = mine.permute(1, 2, 0, *range(3, 3 + len(rest)))                   # [np][hd][3]
    else:
        out = mine.transpose(0, 1)                                               # [np][3][hd]
    return out.reshape(-1, *rest).contiguous()


def split(name, t, rank):
    if name == "word_embeddings" or name.startswith("mlp.dense_h_to_4h"):
        return t.chunk(TP, dim=0)[rank].clone()
    if name in ("attention.dense.weight", "mlp.dense_4h_to_h.weight"):
        return t.chunk(TP, dim=1)[rank].contiguous()
    return t.clone()


def state_dict(full, rank, heads, version):
    encoder = version >= 3
    transformer = collections.OrderedDict()
    for i, layer in full["layers"].items():
        for name, t in layer.items():
            shard = qkv_shard(t, rank, heads, version) if "query_key_value" in name else split(name, t, rank)
            if encoder:
                name = name.replace("attention.", "self_attention.")
            transformer[f"layers.{i}.{name}"] = shard
    transformer["final_layernorm.weight"] = full["final_layernorm.weight"].clone()
    transformer["final_layernorm.bias"] = full["final_layernorm.bias"].clone()
    embedding = {"word_embeddings": collections.OrderedDict(weight=split("word_embeddings", full["word_embeddings"], rank)),
                 "position_embeddings": collections.OrderedDict(weight=full["position_embeddings"].clone())}
    return {"language_model": {"embedding": embedding, ("encoder" if encoder else "transformer"): transformer}}


def args(config, version):
    a = argparse.Namespace(num_layers=config.n_layer, hidden_size=config.n_embd, num_attention_heads=config.n_head,
                           max_position_embeddings=config.n_positions, seq_length=config.n_positions,
                           padded_vocab_size=PADDED, make_vocab_size_divisible_by=128, openai_gelu=True,
                           fp16=False, params_dtype=torch.float32, lr=1.5e-4, vocab_file="gpt2-vocab.json")
    if version >= 3:
        a.tensor_model_parallel_size, a.pipeline_model_parallel_size = TP, 1
        a.layernorm_epsilon, a.apply_residual_connection_post_layernorm = config.layer_norm_epsilon, False
    else:
        a.model_parallel_size = TP
    return a


def write(directory, tracker, folder, objects, legacy):
    shutil.rmtree(directory, ignore_errors=True)
    for rank, obj in enumerate(objects):
        path = os.path.join(directory, folder, f"mp_rank_{rank:02d}")
        os.makedirs(path)
        torch.save(obj, os.path.join(path, "model_optim_rng.pt"), _use_new_zipfile_serialization=not legacy)
    with open(os.path.join(directory, "latest_checkpointed_iteration.txt"), "w") as f:
        f.write(tracker)


def gpt2():
    model = GPT2LMHeadModel.from_pretrained(SOURCE).eval()
    config = model.config
    full = megatron_full(model)
    for version, tracker, folder, legacy in ((0, "release", "release", True), (1, "10", "iter_0000010", False),
                                             (2, "release", "release", False), (3, "20", "iter_0000020", False)):
        objects = []
        for rank in range(TP):
            obj = {"model": state_dict(full, rank, config.n_head, version)}
            if version > 0:
                obj.update(iteration=int(tracker) if tracker.isdigit() else 0, args=args(config, version),
                           checkpoint_version=float(version))
            if version == 3:
                obj["np_rng_state"] = np.random.RandomState(rank).get_state()
                obj["torch_rng_state"] = torch.ByteTensor(list(range(16)))
            objects.append(obj)
        write(os.path.join(OUT, f"gpt2-tiny-v{version}"), tracker, folder, objects, legacy)


# BERT in each checkpoint_version as Megatron-LM saved it: v0 as NVIDIA's released BERT 345M
# (`release`, no args, no version, the legacy stream), v1 and v2 with `model_parallel_size`, v3 with
# `tensor_model_parallel_size`; `transformer` / `attention` before v3, `encoder` / `self_attention` in it.
BERT_VERSIONS = ((0, "release", "release", True), (1, "10", "iter_0000010", False),
                 (2, "release", "release", False), (3, "30", "iter_0000030", False))


def bert_state_dict(sd, layers, word, lm_bias, rank, heads, version):
    transformer = collections.OrderedDict()
    for i, layer in layers.items():
        for name, t in layer.items():
            shard = qkv_shard(t, rank, heads, version) if "query_key_value" in name else split(name, t, rank)
            if version >= 3:
                name = name.replace("attention.", "self_attention.")
            transformer[f"layers.{i}.{name}"] = shard
    transformer["final_layernorm.weight"] = sd["bert.encoder.ln.weight"]
    transformer["final_layernorm.bias"] = sd["bert.encoder.ln.bias"]
    language_model = {
        "embedding": {"word_embeddings": {"weight": split("word_embeddings", word, rank)},
                      "position_embeddings": {"weight": sd["bert.embeddings.position_embeddings.weight"]},
                      "tokentype_embeddings": {"weight": sd["bert.embeddings.token_type_embeddings.weight"]}},
        ("encoder" if version >= 3 else "transformer"): transformer,
        "pooler": {"dense.weight": sd["bert.pooler.dense.weight"], "dense.bias": sd["bert.pooler.dense.bias"]}}
    lm_head = {"bias": lm_bias.chunk(TP)[rank].clone(),
               "dense.weight": sd["cls.predictions.transform.dense.weight"], "dense.bias": sd["cls.predictions.transform.dense.bias"],
               "layernorm.weight": sd["cls.predictions.transform.LayerNorm.weight"],
               "layernorm.bias": sd["cls.predictions.transform.LayerNorm.bias"]}
    binary_head = {"weight": sd["cls.seq_relationship.weight"], "bias": sd["cls.seq_relationship.bias"]}
    return {"language_model": language_model, "lm_head": lm_head, "binary_head": binary_head}


def bert_args(hidden, heads, version):
    a = argparse.Namespace(num_layers=2, hidden_size=hidden, num_attention_heads=heads, max_position_embeddings=32,
                           seq_length=32, padded_vocab_size=PADDED)
    if version >= 3:
        a.tensor_model_parallel_size, a.pipeline_model_parallel_size = TP, 1
    else:
        a.model_parallel_size = TP
    a.layernorm_epsilon, a.apply_residual_connection_post_layernorm, a.openai_gelu = 1e-5, False, False
    if version >= 3:
        a.bert_binary_head = True
    return a


def bert():
    generator = torch.Generator().manual_seed(2026)
    config = MegatronBertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=64, max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu",
                                layer_norm_eps=1e-5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = MegatronBertForPreTraining(config).double().eval()
    perturb(model, generator)
    sd = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.double() for k, v in sd.items()})     # float32-exact weights, float64 arithmetic
    copy.deepcopy(model).float().save_pretrained(MEGATRON_BERT_HF, safe_serialization=True)
    hidden, heads = config.hidden_size, config.num_attention_heads
    padding = 5.0 * torch.randn(PADDED - config.vocab_size, hidden, generator=generator)
    word = torch.cat([sd["bert.embeddings.word_embeddings.weight"], padding])
    lm_bias = torch.cat([sd["cls.predictions.bias"], 5.0 * torch.randn(PADDED - config.vocab_size, generator=generator)])
    layers = {}
    for i in range(config.num_hidden_layers):
        h = f"bert.encoder.layer.{i}."
        qkv = {part: torch.cat([sd[h + f"attention.self.{n}.{part}"] for n in ("query", "key", "value")])
               for part in ("weight", "bias")}
        layers[i] = {
            "input_layernorm.weight": sd[h + "attention.ln.weight"], "input_layernorm.bias": sd[h + "attention.ln.bias"],
            "attention.query_key_value.weight": qkv["weight"], "attention.query_key_value.bias": qkv["bias"],
            "attention.dense.weight": sd[h + "attention.output.dense.weight"], "attention.dense.bias": sd[h + "attention.output.dense.bias"],
            "post_attention_layernorm.weight": sd[h + "ln.weight"], "post_attention_layernorm.bias": sd[h + "ln.bias"],
            "mlp.dense_h_to_4h.weight": sd[h + "intermediate.dense.weight"], "mlp.dense_h_to_4h.bias": sd[h + "intermediate.dense.bias"],
            "mlp.dense_4h_to_h.weight": sd[h + "output.dense.weight"], "mlp.dense_4h_to_h.bias": sd[h + "output.dense.bias"],
        }
    for version, tracker, folder, legacy in BERT_VERSIONS:
        objects = []
        for rank in range(TP):
            obj = {"model": bert_state_dict(sd, layers, word, lm_bias, rank, heads, version)}
            if version > 0:
                obj.update(args=bert_args(hidden, heads, version), checkpoint_version=float(version),
                           iteration=int(tracker) if tracker.isdigit() else 0)
            objects.append(obj)
        write(os.path.join(OUT, f"bert-tiny-v{version}"), tracker, folder, objects, legacy)

    reference = load_file(os.path.join(OUT, "..", "bert-tiny-reference.safetensors"))
    with torch.no_grad():
        out = model(input_ids=reference["tokens"], token_type_ids=reference["token_types"],
                    attention_mask=reference["padding_mask"])
        masked = reference["masked_labels"]
        mlm = F.cross_entropy(out.prediction_logits.reshape(-1, config.vocab_size), masked.reshape(-1), ignore_index=-1)
        binary = F.cross_entropy(out.seq_relationship_logits, reference["sentence_order_labels"])
    tensors = {k: reference[k] for k in ("tokens", "token_types", "padding_mask", "masked_labels", "sentence_order_labels")}
    tensors.update(mlm_logits=out.prediction_logits, binary_logits=out.seq_relationship_logits,
                   mlm_loss=mlm.reshape(1), binary_loss=binary.reshape(1))
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "bert-tiny-reference.safetensors"),
              metadata=metadata())
    print(f"megatron bert-tiny: mlm {mlm.item():.6f}, binary {binary.item():.6f}")


def bad():
    directory = os.path.join(OUT, "bad")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    torch.save({"model": {"w": torch.zeros(2)}, "counter": collections.Counter("ab")},
               os.path.join(directory, "forbidden-global.pt"))
    whole = os.path.join(directory, "whole.pt")
    torch.save({"model": {"a": torch.ones(3), "b": torch.zeros(2)}}, whole)
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(os.path.join(directory, "missing-entry.pt"), "w",
                                                           zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            if not info.filename.endswith("/data/0"):
                target.writestr(info.filename, source.read(info.filename))
    os.remove(whole)
    h = 4
    tiny = {"language_model": {
        "embedding": {"word_embeddings": {"weight": torch.zeros(128, h)}, "position_embeddings": {"weight": torch.zeros(8, h)}},
        "transformer": {**{f"layers.0.{n}": torch.zeros(s) for n, s in (
            ("input_layernorm.weight", [h]), ("input_layernorm.bias", [h]),
            ("attention.query_key_value.weight", [3 * h, h]), ("attention.query_key_value.bias", [3 * h]),
            ("attention.dense.weight", [h, h]), ("attention.dense.bias", [h]),
            ("post_attention_layernorm.weight", [h]), ("post_attention_layernorm.bias", [h]),
            ("mlp.dense_h_to_4h.weight", [4 * h, h]), ("mlp.dense_h_to_4h.bias", [4 * h]),
            ("mlp.dense_4h_to_h.weight", [h, 4 * h]), ("mlp.dense_4h_to_h.bias", [h]))},
                        "final_layernorm.weight": torch.ones(h), "final_layernorm.bias": torch.zeros(h)}}}
    wrong = argparse.Namespace(num_layers=1, hidden_size=8, num_attention_heads=2, max_position_embeddings=8,
                               padded_vocab_size=128, tensor_model_parallel_size=1, tokenizer_type="GPT2BPETokenizer")
    write(os.path.join(directory, "hidden-contradicts-args"), "release", "release",
          [{"model": tiny, "args": wrong, "checkpoint_version": 3.0}], legacy=False)


def dtypes():
    values = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.140625, 65504.0, 1e-7, 6.1e-5, -1e-3, 1234.5678, 1e30, -7.0e-39],
                          dtype=torch.float64)
    tensors = collections.OrderedDict()
    for name, dtype in (("F64", torch.float64), ("F32", torch.float32), ("F16", torch.float16), ("BF16", torch.bfloat16)):
        tensors[name] = values.to(dtype).clone()
        tensors["expected_" + name] = values.to(dtype).to(torch.float64).clone()
    matrix = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    tensors["transposed"] = matrix.t()                        # a strided view of a shared storage
    tensors["expected_transposed"] = matrix.t().contiguous().double()
    torch.save(tensors, os.path.join(OUT, "dtypes.pt"))
    torch.save(tensors, os.path.join(OUT, "dtypes-legacy.pt"), _use_new_zipfile_serialization=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    gpt2()
    bert()
    bad()
    dtypes()
    print(f"torch {torch.__version__}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
