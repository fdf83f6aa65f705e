"""Shared setup for the GGUF golden scripts: imports llama.cpp's gguf-py (PYTHONPATH=../shared/tools/gguf-py)."""
import sys
import types

# gguf/vocab.py imports sentencepiece at module level; it is not installed here and not needed.
if 'sentencepiece' not in sys.modules:
    sp = types.ModuleType('sentencepiece')
    sp.SentencePieceProcessor = object
    sys.modules['sentencepiece'] = sp

import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import quants  # noqa: E402

READABLE = {'F32', 'F16', 'BF16', 'Q8_0', 'TQ1_0', 'TQ2_0'}


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def f64_bits(x):
    return int(np.array([x], dtype=np.float64).view(np.uint64)[0])
