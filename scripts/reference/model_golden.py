#!/usr/bin/env python3
"""Reference weights, inputs, outputs, losses and gradients for our GPT-2 and BERT
(Tests/ModelsTests/Reference/*.h5), computed by Hugging Face transformers in float64.

How to run it by hand (CPU only, offline apart from the pip install; no model download):

    python3 -m venv /tmp/venv-ref
    /tmp/venv-ref/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
    /tmp/venv-ref/bin/pip install transformers h5py
    /tmp/venv-ref/bin/python scripts/reference/model_golden.py        # rewrite the three files

Run it from the repository root. Tests/ModelsTests/ReferenceFiles.swift loads the files;
GPTReferenceTests and BERTReferenceTests compare our models with them at several tp sizes. Versions used for the committed files: torch 2.13.0+cpu,
transformers 5.24.0, h5py 3.16.0 (each file records its own in attributes).

What it does, per file, from one seed:
1. builds a small Hugging Face model (2 layers, hidden 16, 4 heads, vocab 128, 16 positions,
   float64, dropout 0, eager attention) and overwrites every parameter with seeded random
   values (matrices N(0, 0.2), layer-norm gains 1 + N(0, 0.1), everything else N(0, 0.1)), so
   that biases and layer-norm parameters are not the trivial 0/1 that would hide their bugs;
2. runs forward and backward on a fixed batch of 2 sequences of 7 tokens;
3. maps every parameter and gradient to OUR names and layouts (Megatron's; see `gpt_names`,
   `bert_names`), and checks the map: a plain-torch re-implementation of our formulation
   (`OurTransformer`), fed only the mapped weights, must reproduce Hugging Face's outputs,
   loss and (through autograd) the mapped gradients to 1e-12;
4. writes `/weights/<ours>`, `/gradients/<ours>` (float64), `/inputs/<name>` (int32),
   `/outputs/<name>` (float64) and root attributes `config` (JSON, our terms), `hf_config`
   (JSON), `loss` (what the loss is), `name_map` (JSON, ours -> Hugging Face), `seed`,
   `torch_version`, `transformers_version`, `generated_by`.

Inputs are stored in the form our loaders produce (GPTBatch, BERTBatch, RACEBatch fields):
- gpt2.h5: `tokens` [2,7], `labels` [2,7] (= the next token: both are windows of one
  [2,8] sequence, as GPTLoader makes them). Loss = mean cross-entropy of logits[b,s] against
  labels[b,s] over all 14 positions (computed here directly, not through HF's internal shift).
- bert.h5: `tokens`, `token_types`, `padding_mask` (1 = real token) [2,7] (the second sequence
  ends in 2 pads), `masked_labels` (original id where the loss applies, -1 elsewhere),
  `loss_mask` (1 exactly there) [2,7], `sentence_order_labels` [2]. Loss = mlm + binary where
  mlm = mean CE over the masked positions and binary = mean CE of the [2,2] binary logits
  (HF's next_sentence_label; our sentence-order head). Padded keys get HF's additive mask
  (finfo.min), which underflows softmax to exactly 0 as Megatron's -10000 does.
- bert_multiple_choice.h5: `tokens`, `token_types`, `padding_mask` [2,4,7], `labels` [2];
  logits [2,4] from Linear(h,1) on the pooled [CLS] of each of the 8 flattened sequences;
  loss = mean CE over the 2 questions. The gradient of `multiple_choice_head.bias` is exactly 0
  in exact arithmetic (a bias shared by all choices cancels in their softmax): the file holds
  rounding noise (~1e-17) there, so compare that one with an absolute tolerance.

BERT is the ORIGINAL post-LN BERT, written in Megatron's form (`--apply-residual-connection-
post-layernorm`): embeddings = word + position + token type with no layer norm; each layer
  ln1 = LN1(x); x1 = ln1 + Attn(ln1); ln2 = LN2(x1); out = ln2 + MLP(ln2)
and a final layer norm. HF's embedding LayerNorm becomes layers.0.input_layernorm, HF layer i's
attention.output.LayerNorm becomes layers.i.post_attention_layernorm, and HF layer i's
output.LayerNorm becomes layers.(i+1).input_layernorm (final_layernorm for the last layer).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
import transformers
from transformers import BertConfig, BertForMultipleChoice, BertForPreTraining, GPT2Config, GPT2LMHeadModel

SEED = 1234
LAYERS, HIDDEN, HEADS, FFN, VOCAB, POSITIONS = 2, 16, 4, 64, 128, 16
BATCH, SEQUENCE, CHOICES = 2, 7, 4
LAYERNORM_EPSILON = 1e-5
OUT_DIR = os.path.join("Tests", "ModelsTests", "Reference")
MAP_TOLERANCE = 1e-12
CLS, SEP, MASK, PAD = 1, 2, 3, 0


def perturb(model, generator):
    """Seeded random values for every parameter (tied ones are one tensor, set once)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            if p.dim() >= 2:
                p.copy_(0.2 * noise)
            elif "LayerNorm.weight" in name or ("ln_" in name and name.endswith("weight")):
                p.copy_(1 + 0.1 * noise)
            else:
                p.copy_(0.1 * noise)


def random_ids(generator, shape, low=5):
    return torch.randint(low, VOCAB, shape, generator=generator)


# Name maps: ours -> (a function of `get(hf_name)`, applied to values and to gradients alike;
# the HF names it reads; a readable description of it).

def gpt_names():
    names = {
        "embedding.word_embeddings.weight": ("transformer.wte.weight", False),
        "embedding.position_embeddings.weight": ("transformer.wpe.weight", False),
        "final_layernorm.weight": ("transformer.ln_f.weight", False),
        "final_layernorm.bias": ("transformer.ln_f.bias", False),
    }
    for i in range(LAYERS):
        h = f"transformer.h.{i}."
        names.update({
            f"layers.{i}.input_layernorm.weight": (h + "ln_1.weight", False),
            f"layers.{i}.input_layernorm.bias": (h + "ln_1.bias", False),
            # Conv1D stores [in, out]; its 3h output columns are already [Q; K; V].
            f"layers.{i}.attention.query_key_value.weight": (h + "attn.c_attn.weight", True),
            f"layers.{i}.attention.query_key_value.bias": (h + "attn.c_attn.bias", False),
            f"layers.{i}.attention.dense.weight": (h + "attn.c_proj.weight", True),
            f"layers.{i}.attention.dense.bias": (h + "attn.c_proj.bias", False),
            f"layers.{i}.post_attention_layernorm.weight": (h + "ln_2.weight", False),
            f"layers.{i}.post_attention_layernorm.bias": (h + "ln_2.bias", False),
            f"layers.{i}.mlp.dense_h_to_4h.weight": (h + "mlp.c_fc.weight", True),
            f"layers.{i}.mlp.dense_h_to_4h.bias": (h + "mlp.c_fc.bias", False),
            f"layers.{i}.mlp.dense_4h_to_h.weight": (h + "mlp.c_proj.weight", True),
            f"layers.{i}.mlp.dense_4h_to_h.bias": (h + "mlp.c_proj.bias", False),
        })
    return {ours: (lambda get, n=n, t=t: get(n).t() if t else get(n), [n], f"{n}.T" if t else n)
            for ours, (n, t) in names.items()}


def bert_names(head):
    """`head`: "pretraining" (MLM + binary heads) or "multiple_choice"."""
    e, enc = "bert.embeddings.", "bert.encoder.layer."
    names = {
        "embedding.word_embeddings.weight": [e + "word_embeddings.weight"],
        "embedding.position_embeddings.weight": [e + "position_embeddings.weight"],
        "embedding.tokentype_embeddings.weight": [e + "token_type_embeddings.weight"],
        "layers.0.input_layernorm.weight": [e + "LayerNorm.weight"],
        "layers.0.input_layernorm.bias": [e + "LayerNorm.bias"],
        "pooler.dense.weight": ["bert.pooler.dense.weight"],
        "pooler.dense.bias": ["bert.pooler.dense.bias"],
    }
    for i in range(LAYERS):
        h = f"{enc}{i}."
        after = f"layers.{i + 1}.input_layernorm" if i + 1 < LAYERS else "final_layernorm"
        for part in ("weight", "bias"):
            names[f"layers.{i}.attention.query_key_value.{part}"] = [
                h + f"attention.self.{m}.{part}" for m in ("query", "key", "value")]
            names[f"layers.{i}.attention.dense.{part}"] = [h + f"attention.output.dense.{part}"]
            names[f"layers.{i}.post_attention_layernorm.{part}"] = [h + f"attention.output.LayerNorm.{part}"]
            names[f"layers.{i}.mlp.dense_h_to_4h.{part}"] = [h + f"intermediate.dense.{part}"]
            names[f"layers.{i}.mlp.dense_4h_to_h.{part}"] = [h + f"output.dense.{part}"]
            names[f"{after}.{part}"] = [h + f"output.LayerNorm.{part}"]
    if head == "pretraining":
        p = "cls.predictions."
        names.update({
            "lm_head.dense.weight": [p + "transform.dense.weight"],
            "lm_head.dense.bias": [p + "transform.dense.bias"],
            "lm_head.layernorm.weight": [p + "transform.LayerNorm.weight"],
            "lm_head.layernorm.bias": [p + "transform.LayerNorm.bias"],
            "lm_head.bias": [p + "bias"],
            "binary_head.weight": ["cls.seq_relationship.weight"],
            "binary_head.bias": ["cls.seq_relationship.bias"],
        })
    else:
        names.update({
            "multiple_choice_head.weight": ["classifier.weight"],
            "multiple_choice_head.bias": ["classifier.bias"],
        })
    return {ours: (lambda get, ns=ns: torch.cat([get(n) for n in ns], dim=0), ns,
                   ns[0] if len(ns) == 1 else "rows [" + "; ".join(ns) + "]")
            for ours, ns in names.items()}


class OurTransformer:
    """Our formulation, written from our names alone: checks that the name map is complete and
    right (every mapped weight used, the layouts as our model reads them)."""

    def __init__(self, w, post_ln, gelu):
        self.w, self.post_ln, self.gelu = w, post_ln, gelu

    def layer_norm(self, x, name):
        return F.layer_norm(x, (HIDDEN,), self.w[name + ".weight"], self.w[name + ".bias"], LAYERNORM_EPSILON)

    def linear(self, x, name):
        return x @ self.w[name + ".weight"].t() + self.w[name + ".bias"]

    def attention(self, x, prefix, additive_mask):
        b, s, _ = x.shape
        d = HIDDEN // HEADS
        q, k, v = self.linear(x, prefix + "query_key_value").split(HIDDEN, dim=-1)
        q, k, v = (t.reshape(b, s, HEADS, d).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive_mask
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, HIDDEN)
        return self.linear(context, prefix + "dense")

    def mlp(self, x, prefix):
        return self.linear(self.gelu(self.linear(x, prefix + "dense_h_to_4h")), prefix + "dense_4h_to_h")

    def encode(self, x, additive_mask):
        for i in range(LAYERS):
            p = f"layers.{i}."
            if self.post_ln:
                ln1 = self.layer_norm(x, p + "input_layernorm")
                x1 = ln1 + self.attention(ln1, p + "attention.", additive_mask)
                ln2 = self.layer_norm(x1, p + "post_attention_layernorm")
                x = ln2 + self.mlp(ln2, p + "mlp.")
            else:
                x = x + self.attention(self.layer_norm(x, p + "input_layernorm"), p + "attention.", additive_mask)
                x = x + self.mlp(self.layer_norm(x, p + "post_attention_layernorm"), p + "mlp.")
        return self.layer_norm(x, "final_layernorm")

    def embed(self, tokens, token_types=None):
        x = self.w["embedding.word_embeddings.weight"][tokens]
        x = x + self.w["embedding.position_embeddings.weight"][: tokens.shape[-1]]
        if token_types is not None:
            x = x + self.w["embedding.tokentype_embeddings.weight"][token_types]
        return x

    def pooled(self, hidden):
        return torch.tanh(self.linear(hidden[:, 0], "pooler.dense"))


def padding_additive_mask(padding_mask):
    return ((1 - padding_mask.double()) * -1e4)[:, None, None, :]


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def mapped(model, names, gradients):
    params = dict(model.named_parameters())
    get = (lambda n: params[n].grad) if gradients else (lambda n: params[n].detach())
    return {ours: f(get).detach().clone() for ours, (f, _, _) in names.items()}


def check_map(model, names, ours_forward, reference_outputs):
    """Our formulation on the mapped weights must give HF's outputs and mapped gradients."""
    hf = set(dict(model.named_parameters()))
    used = {n for _, sources, _ in names.values() for n in sources}
    assert used == hf, f"parameters missing from the name map: {sorted(hf - used)}"
    weights = {k: v.clone().requires_grad_(True) for k, v in mapped(model, names, False).items()}
    outputs = ours_forward(weights)
    for key, expected in reference_outputs.items():
        difference = relative(outputs[key], expected)
        assert difference < MAP_TOLERANCE, f"{key}: our formulation differs from HF by {difference:.2e}"
    outputs["loss"].backward()
    expected = mapped(model, names, True)
    for name, w in weights.items():
        difference = relative(w.grad, expected[name])
        assert difference < MAP_TOLERANCE, f"gradient {name}: our formulation differs from HF by {difference:.2e}"


def relative(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def write(path, names, model, inputs, outputs, config, loss, seed):
    import h5py  # here, so that other reference scripts can import this one's helpers without it
    with h5py.File(path + ".partial", "w", track_order=True) as f:
        f.attrs["config"] = json.dumps(config, sort_keys=True)
        f.attrs["hf_config"] = model.config.to_json_string(use_diff=False)
        f.attrs["loss"] = loss
        f.attrs["name_map"] = json.dumps({ours: desc for ours, (_, _, desc) in names.items()}, indent=1)
        f.attrs["seed"] = seed
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["transformers_version"] = str(transformers.__version__)
        f.attrs["generated_by"] = "scripts/reference/model_golden.py"
        for group, tensors, dtype in (("inputs", inputs, "int32"), ("outputs", outputs, "float64"),
                                      ("weights", mapped(model, names, False), "float64"),
                                      ("gradients", mapped(model, names, True), "float64")):
            g = f.create_group(group)
            for name, t in tensors.items():
                g.create_dataset(name, data=t.detach().numpy().astype(dtype))
    os.replace(path + ".partial", path)
    print(f"{path}: {os.path.getsize(path)} bytes, {len(names)} parameters")


def our_config(gelu, layer_order, extra=None):
    config = {"layers": LAYERS, "hidden": HIDDEN, "heads": HEADS, "ffn_hidden": FFN,
              "vocab": VOCAB, "padded_vocab": VOCAB, "max_positions": POSITIONS,
              "layernorm_epsilon": LAYERNORM_EPSILON, "gelu": gelu, "layer_order": layer_order,
              "tied_output_embedding": True, "dropout": 0.0, "dtype": "float64"}
    config.update(extra or {})
    return config


def gpt2(seed):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS,
                        n_inner=FFN, activation_function="gelu_new", layer_norm_epsilon=LAYERNORM_EPSILON,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
                        bos_token_id=0, eos_token_id=0, attn_implementation="eager")
    model = GPT2LMHeadModel(config).double().eval()
    assert model.lm_head.weight is model.transformer.wte.weight
    perturb(model, generator)
    window = torch.randint(0, VOCAB, (BATCH, SEQUENCE + 1), generator=generator)
    tokens, labels = window[:, :-1], window[:, 1:]
    logits = model(input_ids=tokens).logits
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), labels.reshape(-1))
    loss.backward()

    names = gpt_names()
    causal = torch.full((SEQUENCE, SEQUENCE), -1e4, dtype=torch.float64).triu(1)

    def ours(w):
        net = OurTransformer(w, post_ln=False, gelu=gelu_tanh)
        our_logits = net.encode(net.embed(tokens), causal) @ w["embedding.word_embeddings.weight"].t()
        return {"logits": our_logits, "loss": F.cross_entropy(our_logits.reshape(-1, VOCAB), labels.reshape(-1))}

    check_map(model, names, ours, {"logits": logits, "loss": loss})
    write(os.path.join(OUT_DIR, "gpt2.h5"), names, model,
          {"tokens": tokens, "labels": labels}, {"logits": logits, "loss": loss},
          our_config("tanh", "pre-LN (GPT-2)"),
          "mean over all batch*sequence positions of cross_entropy(logits[b,s,:], labels[b,s]); "
          "labels are the tokens shifted by one (one [2,8] window)", seed)


def bert_config():
    return BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                      intermediate_size=FFN, max_position_embeddings=POSITIONS, type_vocab_size=2,
                      hidden_act="gelu", layer_norm_eps=LAYERNORM_EPSILON, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0, pad_token_id=PAD, tie_word_embeddings=True,
                      attn_implementation="eager")


BERT_ORDER = "post-LN (original BERT; Megatron --apply-residual-connection-post-layernorm)"


def bert(seed):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = BertForPreTraining(bert_config()).double().eval()
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    perturb(model, generator)
    # [CLS] A [SEP] B [SEP], the second shorter and padded.
    original = random_ids(generator, (BATCH, SEQUENCE))
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
    tokens[1, 3] = MASK  # position (0, 4) keeps its token, as 10% of BERT's picks do
    masked_labels = torch.where(loss_mask == 1, original, torch.full_like(original, -1))
    sentence_order = torch.tensor([0, 1])

    out = model(input_ids=tokens, token_type_ids=token_types, attention_mask=padding_mask,
                labels=torch.where(loss_mask == 1, original, torch.full_like(original, -100)),
                next_sentence_label=sentence_order)
    mlm_logits, binary_logits = out.prediction_logits, out.seq_relationship_logits
    mlm = F.cross_entropy(mlm_logits.reshape(-1, VOCAB), masked_labels.reshape(-1), ignore_index=-1)
    binary = F.cross_entropy(binary_logits, sentence_order)
    assert relative(mlm + binary, out.loss) < MAP_TOLERANCE
    out.loss.backward()

    names = bert_names("pretraining")

    def ours(w):
        net = OurTransformer(w, post_ln=True, gelu=gelu_erf)
        hidden = net.encode(net.embed(tokens, token_types), padding_additive_mask(padding_mask))
        transformed = net.layer_norm(gelu_erf(net.linear(hidden, "lm_head.dense")), "lm_head.layernorm")
        our_mlm = transformed @ w["embedding.word_embeddings.weight"].t() + w["lm_head.bias"]
        our_binary = net.linear(net.pooled(hidden), "binary_head")
        our_mlm_loss = F.cross_entropy(our_mlm.reshape(-1, VOCAB), masked_labels.reshape(-1), ignore_index=-1)
        our_binary_loss = F.cross_entropy(our_binary, sentence_order)
        return {"mlm_logits": our_mlm, "binary_logits": our_binary, "mlm_loss": our_mlm_loss,
                "binary_loss": our_binary_loss, "loss": our_mlm_loss + our_binary_loss}

    outputs = {"mlm_logits": mlm_logits, "binary_logits": binary_logits,
               "mlm_loss": mlm, "binary_loss": binary, "loss": out.loss}
    check_map(model, names, ours, outputs)
    write(os.path.join(OUT_DIR, "bert.h5"), names, model,
          {"tokens": tokens, "token_types": token_types, "padding_mask": padding_mask,
           "masked_labels": masked_labels, "loss_mask": loss_mask, "sentence_order_labels": sentence_order},
          outputs, our_config("erf", BERT_ORDER, {"tokentypes": 2}),
          "mlm_loss + binary_loss: mlm_loss = mean of cross_entropy(mlm_logits[b,s,:], masked_labels[b,s]) over "
          "the positions where loss_mask = 1; binary_loss = mean over the batch of "
          "cross_entropy(binary_logits[b,:], sentence_order_labels[b])", seed)


def bert_multiple_choice(seed):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = BertForMultipleChoice(bert_config()).double().eval()
    perturb(model, generator)
    # [CLS] question [SEP] option [SEP] then pads: questions of 1 and 2 tokens, options of 1-3,
    # so rows end with 0-3 pads.
    tokens = torch.full((BATCH, CHOICES, SEQUENCE), PAD, dtype=torch.long)
    token_types = torch.zeros_like(tokens)
    padding_mask = torch.zeros_like(tokens)
    for b in range(BATCH):
        question = random_ids(generator, (1 + b,))
        for c in range(CHOICES):
            option = random_ids(generator, (1 + (b + c) % (3 - b),))
            row = torch.cat([torch.tensor([CLS]), question, torch.tensor([SEP]), option, torch.tensor([SEP])])
            tokens[b, c, : len(row)] = row
            token_types[b, c, 2 + len(question): len(row)] = 1
            padding_mask[b, c, : len(row)] = 1
    labels = torch.tensor([2, 1])

    out = model(input_ids=tokens, token_type_ids=token_types, attention_mask=padding_mask, labels=labels)
    assert relative(F.cross_entropy(out.logits, labels), out.loss) < MAP_TOLERANCE
    out.loss.backward()

    names = bert_names("multiple_choice")

    def ours(w):
        net = OurTransformer(w, post_ln=True, gelu=gelu_erf)
        flat = (lambda t: t.reshape(BATCH * CHOICES, SEQUENCE))
        hidden = net.encode(net.embed(flat(tokens), flat(token_types)), padding_additive_mask(flat(padding_mask)))
        logits = net.linear(net.pooled(hidden), "multiple_choice_head").reshape(BATCH, CHOICES)
        return {"logits": logits, "loss": F.cross_entropy(logits, labels)}

    outputs = {"logits": out.logits, "loss": out.loss}
    check_map(model, names, ours, outputs)
    write(os.path.join(OUT_DIR, "bert_multiple_choice.h5"), names, model,
          {"tokens": tokens, "token_types": token_types, "padding_mask": padding_mask, "labels": labels},
          outputs, our_config("erf", BERT_ORDER, {"tokentypes": 2, "choices": CHOICES}),
          "mean over the questions of cross_entropy(logits[b,:], labels[b]); logits[b,c] = "
          "multiple_choice_head(pooler(hidden of [CLS] of the flattened sequence b*choices+c))", seed)


def main():
    if not os.path.isdir(OUT_DIR):
        sys.exit(f"{OUT_DIR} not found: run this from the repository root")
    torch.use_deterministic_algorithms(True)
    gpt2(SEED)
    bert(SEED + 1)
    bert_multiple_choice(SEED + 2)


if __name__ == "__main__":
    main()
