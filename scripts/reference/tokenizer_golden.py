#!/usr/bin/env python3
"""Reference token ids for the Swift tokenizers (Tests/DatasetsTests/Golden/*.golden).

How to run it by hand (offline apart from the pip install; no model download):

    python3 -m venv /tmp/tokref-venv
    /tmp/tokref-venv/bin/pip install tiktoken tokenizers transformers
    /tmp/tokref-venv/bin/python scripts/reference/tokenizer_golden.py            # rewrite the goldens
    /tmp/tokref-venv/bin/python scripts/reference/tokenizer_golden.py --throughput  # time the references
    /tmp/tokref-venv/bin/python scripts/reference/tokenizer_golden.py --show gpt2_wikitext103_test 7

Run it from the repository root; the data is read from ../shared/datasets (or --shared DIR).
Versions used for the committed goldens: tiktoken 0.14.0, tokenizers 0.23.3, transformers 5.24.0.

References, each built from the same vocabulary files the Swift code reads:
- GPT-2 BPE: tiktoken, an Encoding made from encoder.json + vocab.bpe with GPT-2's pattern.
  Hugging Face `tokenizers` (ByteLevel BPE from the same files) must agree on every unit.
- BERT WordPiece: Hugging Face's Python BertTokenizer (transformers' BertTokenizerLegacy,
  do_lower_case=True) on vocab.txt; the Rust-backed BertTokenizer must agree on every unit.
  The hand cases leave out what the two references (and so the Swift code) treat differently:
  literal "[CLS]" etc. in text (special tokens in Python, text in Rust and Swift) and the Greek
  final sigma (Python's lower() gives "ς" at a word's end, Rust and Swift "σ").

A golden file holds one line per unit (a line of WikiText, a LAMBADA text, a RACE article,
question or option) in input order: `<id count> <FNV-1a 64 of the ids as little-endian int32>`,
followed by the ids themselves for the first SAMPLE units. Its header gives the number of units
and ids and the SHA-256 of the whole id stream. handcases.golden holds small tricky strings
(JSON-escaped) with their full ids for both tokenizers.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import time

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
SAMPLE = 20
GOLDEN_DIR = os.path.join("Tests", "DatasetsTests", "Golden")

HAND_CASES = [
    "Hello world, it's a test.",
    "'s 't 're 've 'm 'll 'd 'S 'RE ''s ?'s don't I'm we'll they'd O'Neil",
    "Héllo Wörld! Çà et là, naïve café, façade, coöperate.",
    "e\u0301 a\u0308 n\u0303 \u0301lone combining mark",
    "日本語のテキスト 中文字符，句号。 한국어 텍스트 \uf900\uf901",
    "\"quoted\" — dash – en ‘curly’ “quotes” … ellipsis «guillemets» ¿qué? ¡sí!",
    "a" * 150,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "tab\there\r\nnewline\u000bvt\u000cff\u00a0nbsp\u2003emspace\u2028ls\u2029ps\u3000ideographic",
    "\u0000nul\u0007bell\u200bzwsp\u00adsoft\u200dhyphen\ufeffbom\ue000private\ufffdreplacement",
    "Emoji 🎉👍🏽 👨‍👩‍👧 and symbols ©®™ € £ ¥ ± × ÷ ° µ",
    "ΑΘΗΝΑ σοφία ελληνικά",
    "İstanbul IĞDIR ǅemal ß ẞ",
    "ﬁnance ﬀ ＡＢＣ１２３！ Ⅻ ½ ² ³",
    "Kelvin \u212a Ohm \u2126 Angstrom \u212b",
    "Привет, мир! مرحبا بالعالم שָׁלוֹם नमस्ते दुनिया สวัสดีชาวโลก",
    "   leading and trailing spaces   ",
    "",
    " ",
    "\n\n\n",
    "a  b   c\n\n d" + " " * 40 + "e",
    "x = 1_000_000 + 3.14e-10; // C++ code {}[]<>|\\^`~@#$%&*",
    "https://example.com/path?q=1&r=2#frag user@example.org",
    "1234567890123 3.1415926535 1,000,000 2019-11-26 10:45pm",
    "<|endoftext|> ##ing",
    " = = Robert Boulter = = \n",
    "The @-@ game 's 2 @,@ 000 units @.@ sold <unk> .",
]


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for b in struct.pack("<%di" % len(ids), *ids):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def lines_with_newline(path):
    """Each line of a file with its '\\n', as the Swift tests split it (only on '\\n')."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def lambada_texts(path):
    with open(path, "rb") as f:
        return [json.loads(line)["text"] for line in f.read().decode("utf-8").split("\n") if line]


def race_units(path):
    """Per article: the article, then each question followed by its four options."""
    units = []
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8").split("\n"):
            if not line:
                continue
            d = json.loads(line)
            units.append(d["article"])
            for question, options in zip(d["questions"], d["options"]):
                units.append(question)
                units.extend(options)
    return units


class References:
    def __init__(self, shared):
        self.shared = shared
        gpt2_dir = os.path.join(shared, "gpt2_bpe")
        vocab_txt = os.path.join(shared, "bert_wordpiece", "vocab.txt")

        import tiktoken
        from tiktoken.load import data_gym_to_mergeable_bpe_ranks
        ranks = data_gym_to_mergeable_bpe_ranks(
            vocab_bpe_file=os.path.join(gpt2_dir, "vocab.bpe"),
            encoder_json_file=os.path.join(gpt2_dir, "encoder.json"))
        self.tiktoken = tiktoken.Encoding(
            name="gpt2-local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
            special_tokens={"<|endoftext|>": 50256})

        from tokenizers import Tokenizer, decoders, pre_tokenizers
        from tokenizers.models import BPE
        hf = Tokenizer(BPE.from_file(os.path.join(gpt2_dir, "encoder.json"), os.path.join(gpt2_dir, "vocab.bpe")))
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf.decoder = decoders.ByteLevel()
        self.hf_gpt2 = hf

        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
        from transformers import BertTokenizer
        self.bert_python = BertTokenizerLegacy(vocab_txt, do_lower_case=True)
        self.bert_rust = BertTokenizer(vocab=vocab_txt, do_lower_case=True)

        import tokenizers, transformers
        self.versions = "tiktoken %s, tokenizers %s, transformers %s" % (
            tiktoken.__version__, tokenizers.__version__, transformers.__version__)

    def gpt2(self, text):
        return self.tiktoken.encode_ordinary(text)

    def gpt2_hf(self, text):
        return self.hf_gpt2.encode(text).ids

    def bert(self, text):
        return self.bert_python.convert_tokens_to_ids(self.bert_python.tokenize(text))

    def bert_hf(self, text):
        return self.bert_rust.encode(text, add_special_tokens=False)


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def golden_sets(shared):
    """name → (tokenizer, source file relative to shared, units)."""
    wiki = os.path.join("wikitext-103", "wiki.test.tokens")
    lambada = os.path.join("lambada", "lambada_test.jsonl")
    race = os.path.join("race", "race_middle_test.jsonl")
    return {
        "gpt2_wikitext103_test": ("gpt2", wiki, "lines with their newline", lines_with_newline(os.path.join(shared, wiki))),
        "gpt2_lambada_test": ("gpt2", lambada, "the text field of each line", lambada_texts(os.path.join(shared, lambada))),
        "bert_race_middle_test": ("bert", race, "per article: article, then each question and its four options", race_units(os.path.join(shared, race))),
        "bert_wikitext103_test": ("bert", wiki, "lines with their newline", lines_with_newline(os.path.join(shared, wiki))),
    }


def write_goldens(refs, shared):
    disagreements = 0
    for name, (kind, source, unit_kind, units) in golden_sets(shared).items():
        encode, cross = (refs.gpt2, refs.gpt2_hf) if kind == "gpt2" else (refs.bert, refs.bert_hf)
        stream = hashlib.sha256()
        rows = []
        total = 0
        for i, text in enumerate(units):
            ids = encode(text)
            other = cross(text)
            if ids != other:
                disagreements += 1
                print("%s unit %d: references disagree\n  text %r\n  primary %s\n  cross   %s" % (name, i, text, ids, other))
            stream.update(struct.pack("<%di" % len(ids), *ids))
            total += len(ids)
            row = "%d %016x" % (len(ids), fnv1a64(ids))
            if i < SAMPLE:
                row += " | " + " ".join(map(str, ids))
            rows.append(row)
        path = os.path.join(GOLDEN_DIR, name + ".golden")
        with open(path, "w") as f:
            f.write("# %s ids of %s (sha256 %s), one line per unit: %s\n" % (kind, source, sha256_file(os.path.join(shared, source)), unit_kind))
            f.write("# made by scripts/reference/tokenizer_golden.py with %s\n" % refs.versions)
            f.write("# units %d ids %d sha256-of-int32le-ids %s\n" % (len(units), total, stream.hexdigest()))
            f.write("\n".join(rows) + "\n")
        print("%s: %d units, %d ids -> %s (%d bytes)" % (name, len(units), total, path, os.path.getsize(path)))

    with open(os.path.join(GOLDEN_DIR, "handcases.golden"), "w") as f:
        f.write("# tokenizer <TAB> JSON string <TAB> ids; made by scripts/reference/tokenizer_golden.py with %s\n" % refs.versions)
        for kind in ("gpt2", "bert"):
            encode, cross = (refs.gpt2, refs.gpt2_hf) if kind == "gpt2" else (refs.bert, refs.bert_hf)
            for text in HAND_CASES:
                ids = encode(text)
                if ids != cross(text):
                    disagreements += 1
                    print("hand case %s %r: references disagree\n  primary %s\n  cross   %s" % (kind, text, ids, cross(text)))
                f.write("%s\t%s\t%s\n" % (kind, json.dumps(text), " ".join(map(str, ids))))
    print("references disagree on %d units" % disagreements)


def throughput(refs, shared):
    os.environ["RAYON_NUM_THREADS"] = "1"
    sets = golden_sets(shared)
    wiki = sets["gpt2_wikitext103_test"][3]
    articles = []
    with open(os.path.join(shared, "race", "race_middle_test.jsonl"), "rb") as f:
        for line in f.read().decode("utf-8").split("\n"):
            if line:
                articles.append(json.loads(line)["article"])
    cases = [
        ("tiktoken gpt2", wiki, refs.gpt2),
        ("tokenizers gpt2", wiki, refs.gpt2_hf),
        ("BertTokenizer (python)", articles, lambda t: refs.bert_python.convert_tokens_to_ids(refs.bert_python.tokenize(t))),
        ("BertTokenizer (rust)", articles, lambda t: refs.bert_rust.encode(t, add_special_tokens=False)),
    ]
    print("reference                 text MB   MB/s (one thread, median of 3)")
    for name, texts, encode in cases:
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        times = []
        for _ in range(3):
            start = time.perf_counter()
            for t in texts:
                encode(t)
            times.append(time.perf_counter() - start)
        times.sort()
        print("%-24s %7.2f  %7.2f" % (name, mb, mb / times[1]))


def show(refs, shared, name, index):
    kind, _, _, units = golden_sets(shared)[name]
    text = units[index]
    print(repr(text))
    print(" ".join(map(str, refs.gpt2(text) if kind == "gpt2" else refs.bert(text))))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=os.path.join("..", "shared", "datasets"), help="the shared datasets folder")
    parser.add_argument("--throughput", action="store_true", help="time the reference tokenizers instead")
    parser.add_argument("--show", nargs=2, metavar=("SET", "UNIT"), help="print one unit's text and reference ids")
    args = parser.parse_args()
    if not os.path.isdir(args.shared):
        sys.exit("no shared datasets at %s: run from the repository root or pass --shared" % args.shared)
    refs = References(args.shared)
    if args.throughput:
        throughput(refs, args.shared)
    elif args.show:
        show(refs, args.shared, args.show[0], int(args.show[1]))
    else:
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        write_goldens(refs, args.shared)


if __name__ == "__main__":
    main()
