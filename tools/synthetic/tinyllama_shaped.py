#!/usr/bin/env python3
"""Writes a Hugging Face folder with TinyLlama-1.1B's shapes and seeded random F16 weights.

Usage: tools/synthetic/tinyllama_shaped.py OUT_DIR [--layers N] [--seed S] [--tokenizer DIR] [--std 0.02|fan-in]

The tokenizer files are copied from a real model (default ../shared/models/tinystories-656k): its ids are all below
TinyLlama's vocabulary size, so the folder loads, calibrates and evaluates like a real checkpoint. The weights are
N(0, 0.02²) (TinyLlama's initializer_range) and norms are ones; the same seed gives the same bytes.

With --std fan-in the model's outputs depend strongly on its weights, so that greedy decoding has clear winners (for
comparing two implementations token by token): projections are N(0, 1/fan_in), embeddings N(0, 1), and the head's
rows are N(0, (8/sqrt(hidden))²) for the tokenizer's ids and zero for the padding ids above them, so logits of real
tokens have a standard deviation of about 8 and padding ids are never chosen.
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

HIDDEN, INTER, HEADS, KV_HEADS, VOCAB, CTX = 2048, 5632, 32, 4, 32000, 2048


def tensors(layers):
    head_dim = HIDDEN // HEADS
    kv = KV_HEADS * head_dim
    yield "model.embed_tokens.weight", (VOCAB, HIDDEN)
    for l in range(layers):
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", (HIDDEN,)
        yield p + "self_attn.q_proj.weight", (HIDDEN, HIDDEN)
        yield p + "self_attn.k_proj.weight", (kv, HIDDEN)
        yield p + "self_attn.v_proj.weight", (kv, HIDDEN)
        yield p + "self_attn.o_proj.weight", (HIDDEN, HIDDEN)
        yield p + "post_attention_layernorm.weight", (HIDDEN,)
        yield p + "mlp.gate_proj.weight", (INTER, HIDDEN)
        yield p + "mlp.up_proj.weight", (INTER, HIDDEN)
        yield p + "mlp.down_proj.weight", (HIDDEN, INTER)
    yield "model.norm.weight", (HIDDEN,)
    yield "lm_head.weight", (VOCAB, HIDDEN)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", default="0.02", help="0.02 (default) or fan-in")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--tokenizer", default=os.path.join(here, "..", "..", "..", "shared", "models", "tinystories-656k"))
    a = ap.parse_args()
    if a.layers < 1:
        sys.exit("tinyllama_shaped: --layers must be >= 1")
    if not os.path.isfile(os.path.join(a.tokenizer, "tokenizer.json")):
        sys.exit(f"tinyllama_shaped: no tokenizer.json in {a.tokenizer}")
    if a.std not in ("0.02", "fan-in"):
        sys.exit("tinyllama_shaped: --std must be 0.02 or fan-in")
    with open(os.path.join(a.tokenizer, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    tok_vocab = 1 + max(list(tj["model"]["vocab"].values()) + [t["id"] for t in tj.get("added_tokens", [])])
    os.makedirs(a.out, exist_ok=True)

    specs = list(tensors(a.layers))
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in specs:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    rng = np.random.default_rng(a.seed)
    tmp = os.path.join(a.out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name, shape in specs:
            if len(shape) == 1:
                f.write(np.ones(shape, dtype="<f2").tobytes())
                continue
            if a.std == "fan-in":
                std = {"model.embed_tokens.weight": 1.0, "lm_head.weight": 8.0 / np.sqrt(HIDDEN)}.get(name, 1.0 / np.sqrt(shape[1]))
            else:
                std = 0.02
            # Row chunks keep the float32 scratch small (the embedding alone is 256 MB in f32).
            for r0 in range(0, shape[0], 1024):
                rows = min(1024, shape[0] - r0)
                x = rng.standard_normal((rows, shape[1]), dtype=np.float32) * np.float32(std)
                if a.std == "fan-in" and name == "lm_head.weight":
                    x[max(0, tok_vocab - r0):] = 0
                f.write(x.astype("<f2").tobytes())
    os.replace(tmp, os.path.join(a.out, "model.safetensors"))

    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "hidden_size": HIDDEN, "intermediate_size": INTER, "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS, "num_hidden_layers": a.layers, "vocab_size": VOCAB,
        "max_position_embeddings": CTX, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "bos_token_id": 1,
        "eos_token_id": 2, "torch_dtype": "float16", "initializer_range": 0.02,
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        src = os.path.join(a.tokenizer, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(a.out, name))
    print(f"wrote {a.out}: {a.layers} TinyLlama-shaped blocks, seed {a.seed}, std {a.std}, {offset / 1e9:.2f} GB of F16 weights")


if __name__ == "__main__":
    main()
