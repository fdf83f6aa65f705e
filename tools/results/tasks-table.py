#!/usr/bin/env python3
"""Markdown table of zero-shot results from `./tern eval --tasks paper --json FILE` outputs.
Usage: tasks-table.py LABEL=FILE.json [LABEL=FILE.json ...]   (one column pair acc / acc_norm per file)"""
import json
import sys

TASKS = ["piqa", "arc_easy", "arc_challenge", "hellaswag", "winogrande", "openbookqa", "boolq"]
runs = [(a.split("=", 1)[0], json.load(open(a.split("=", 1)[1]))) for a in sys.argv[1:]]
print("| task | n | " + " | ".join(f"{label} acc / acc_norm" for label, _ in runs) + " |")
print("|---|---|" + "---|" * len(runs))
for t in TASKS:
    cells = []
    for _, r in runs:
        x = r.get(t)
        if x is None:
            cells.append("skipped")
            continue
        norm = f"{x['acc_norm']:.3f}" if "acc_norm" in x else "—"
        cells.append(f"{x['acc']:.3f} ± {x['acc_stderr']:.3f} / {norm}")
    n = next((r[t]["n"] for _, r in runs if t in r), "")
    print(f"| {t} | {n} | " + " | ".join(cells) + " |")
avg = []
for _, r in runs:
    a = r.get("average", {})
    avg.append(f"{a['acc']:.3f} / {a['acc_norm']:.3f}" if isinstance(a, dict) else f"{a:.3f}")
print("| **average** | | " + " | ".join(f"**{c}**" for c in avg) + " |")
