#!/usr/bin/env python3
"""Independent LLaMA forward pass in PyTorch (Debian python3-torch), written from the architecture
definition, used once to produce golden values for Tern's tests and to cross-check perplexity.

Usage:
  llama_reference.py logits MODEL_DIR OUT.json            golden logits for a fixed token sequence
  llama_reference.py ppl MODEL_DIR IDS.json WINDOW        perplexity over token ids (non-overlapping windows)
"""
import json, math, struct, sys
import numpy as np
import torch

DT = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        if t["dtype"] == "BF16":
            raw = np.frombuffer(data[b:e], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[b:e], dtype=DT[t["dtype"]]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(t["shape"]).copy())
    for alias, target in meta.items():
        if alias not in out and target in out:
            out[alias] = out[target]
    return out


class Llama:
    def __init__(self, model_dir):
        self.cfg = json.load(open(f"{model_dir}/config.json"))
        self.w = read_safetensors(f"{model_dir}/model.safetensors")
        c = self.cfg
        self.h = c["hidden_size"]
        self.nh = c["num_attention_heads"]
        self.nkv = c.get("num_key_value_heads", self.nh)
        self.hd = c.get("head_dim", self.h // self.nh)
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.theta = c.get("rope_theta", 10000.0)
        if "lm_head.weight" not in self.w or c.get("tie_word_embeddings", False):
            self.w["lm_head.weight"] = self.w["model.embed_tokens.weight"]

    def norm(self, x, w):
        x64 = x.double()
        return (x64 * torch.rsqrt(x64.pow(2).mean(-1, keepdim=True) + self.eps)).float() * w

    def rope(self, x, pos):
        # x: [T, heads, hd]; rotate-half convention
        half = self.hd // 2
        inv = 1.0 / (self.theta ** (torch.arange(0, half, dtype=torch.float64) * 2 / self.hd))
        ang = pos[:, None].double() * inv[None, :]
        cos, sin = torch.cos(ang).float()[:, None, :], torch.sin(ang).float()[:, None, :]
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    @torch.no_grad()
    def logits(self, ids):
        w, T = self.w, len(ids)
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]
        pos = torch.arange(T)
        mask = torch.full((T, T), float("-inf")).triu(1)
        for l in range(self.cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            xn = self.norm(x, w[p + "input_layernorm.weight"])
            q = (xn @ w[p + "self_attn.q_proj.weight"].T).view(T, self.nh, self.hd)
            k = (xn @ w[p + "self_attn.k_proj.weight"].T).view(T, self.nkv, self.hd)
            v = (xn @ w[p + "self_attn.v_proj.weight"].T).view(T, self.nkv, self.hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            rep = self.nh // self.nkv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
            s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(self.hd) + mask
            a = torch.einsum("hts,shd->thd", torch.softmax(s, dim=-1), v).reshape(T, -1)
            x = x + a @ w[p + "self_attn.o_proj.weight"].T
            xn = self.norm(x, w[p + "post_attention_layernorm.weight"])
            g = xn @ w[p + "mlp.gate_proj.weight"].T
            u = xn @ w[p + "mlp.up_proj.weight"].T
            x = x + (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
        return self.norm(x, w["model.norm.weight"]) @ w["lm_head.weight"].T


GOLDEN_IDS = [1, 415, 1201, 30, 7, 1888, 256, 43, 99, 1023, 5, 612, 1500, 77, 2047, 3]


def main():
    torch.set_num_threads(2)
    mode, model_dir = sys.argv[1], sys.argv[2]
    m = Llama(model_dir)
    if mode == "logits":
        lg = m.logits(GOLDEN_IDS)
        json.dump({"model": model_dir.rstrip("/").split("/")[-1], "ids": GOLDEN_IDS,
                   "logits": [[round(float(v), 7) for v in row] for row in lg]}, open(sys.argv[3], "w"))
    elif mode == "ppl":
        ids = json.load(open(sys.argv[3]))
        L = int(sys.argv[4])
        nll, count = 0.0, 0
        for s in range(0, len(ids) - L + 1, L):
            win = ids[s:s + L]
            lg = m.logits(win).double()
            lp = torch.log_softmax(lg[:-1], dim=-1)
            nll -= lp[torch.arange(L - 1), torch.tensor(win[1:])].sum().item()
            count += L - 1
        print(json.dumps({"perplexity": math.exp(nll / count), "tokens": count, "windows": (len(ids)) // L}))


if __name__ == "__main__":
    main()
