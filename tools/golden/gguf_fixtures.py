"""Writes the GGUF golden fixtures in src/test/resources/gguf/ with llama.cpp's own Python writer (gguf-py).

Usage (from the repository root):
    PYTHONPATH=../shared/tools/gguf-py python3 tools/golden/gguf_fixtures.py src/test/resources/gguf

Files:
  tensors.gguf / tensors.json    F32, F16, BF16, Q8_0, TQ1_0, TQ2_0 and I32 tensors of seeded values. The JSON has each
                                 tensor's header entry, its source floats, what gguf-py dequantizes it to, and for the
                                 ternary types the trits and f16 scales computed here from the source floats (gguf-py's
                                 rule: d = max|x| per 256, t = roundf(x / d)), all floats as IEEE bit patterns.
  metadata.gguf / metadata.json  one key of every value type, arrays (nested ones too), general.alignment = 64 and two
                                 small tensors, so a custom alignment moves the data section and the tensor offsets.
  types.json                     gguf-py's GGML type table: name -> [id, block size, bytes per block].
"""
import json
import os
import sys

from gguf_common import np, gguf, quants, f32_bits, f64_bits

T = gguf.GGMLQuantizationType
V = gguf.GGUFValueType


def ternary_expectation(x):
    blocks = x.reshape(-1, 256).astype(np.float32)
    d = np.abs(blocks).max(axis=-1, keepdims=True)
    with np.errstate(divide='ignore'):
        inv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    t = quants.np_roundf(blocks * inv).astype(np.int8)
    d16 = d.reshape(-1).astype(np.float16).view(np.uint16)
    return [int(v) for v in t.reshape(-1)], [int(v) for v in d16]


def tensors(out):
    rng = np.random.default_rng(20260101)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 1e-8, 1e-40, 3.0e38, -2.5], dtype=np.float32)
    src = {
        'f32.weight': (T.F32, np.concatenate([specials, rng.standard_normal(14, dtype=np.float32)]).reshape(3, 8)),
        'f16.weight': (T.F16, np.concatenate([specials[:6], rng.standard_normal(26, dtype=np.float32)]).reshape(2, 16)),
        'bf16.weight': (T.BF16, np.concatenate([specials, rng.standard_normal(6, dtype=np.float32)]).reshape(4, 4)),
        'blk.0.q8_0.weight': (T.Q8_0, (rng.standard_normal((2, 64), dtype=np.float32) * 0.05).astype(np.float32)),
        # The last row is all zeros: d = 0 and every trit 0.
        'blk.0.tq1_0.weight': (T.TQ1_0, np.concatenate([rng.standard_normal((2, 256), dtype=np.float32) * 0.02,
                                                        np.zeros((1, 256), dtype=np.float32)])),
        'blk.0.tq2_0.weight': (T.TQ2_0, (rng.standard_normal((2, 2, 256), dtype=np.float32) * 0.02).astype(np.float32)),
        'ids': (T.I32, np.array([7, -1, 0, 2147483647, -2147483648], dtype=np.int32)),
    }
    path = os.path.join(out, 'tensors.gguf')
    w = gguf.GGUFWriter(path, 'tern-test')
    w.add_name('tern golden tensors')
    for name, (qt, x) in src.items():
        if qt in (T.F32, T.F16, T.I32):
            data = x.astype({T.F32: np.float32, T.F16: np.float16, T.I32: np.int32}[qt])
            w.add_tensor(name, data)
        else:
            w.add_tensor(name, quants.quantize(x, qt), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    r = gguf.GGUFReader(path)
    entries = []
    for t in r.tensors:
        qt, x = src[t.name]
        e = {'name': t.name, 'type': t.tensor_type.name, 'ne': [int(v) for v in t.shape],
             'offset': int(t.data_offset), 'bytes': int(t.n_bytes)}
        if qt == T.I32:
            e['ints'] = [int(v) for v in x]
        else:
            e['source'] = f32_bits(x)
            raw = np.asarray(t.data)
            e['values'] = f32_bits(quants.dequantize(raw if qt not in (T.F32, T.F16) else raw.view(np.uint8), qt))
        if qt in (T.TQ1_0, T.TQ2_0):
            e['trits'], e['d_f16'] = ternary_expectation(x)
        entries.append(e)
    with open(os.path.join(out, 'tensors.json'), 'w') as f:
        json.dump({'version': 3, 'alignment': int(r.alignment), 'data_offset': int(r.data_offset),
                   'tensors': entries}, f, separators=(',', ':'))


def metadata(out):
    kv = [  # key, type, value (floats as given; their bits go into the JSON)
        ('test.u8', V.UINT8, 200), ('test.i8', V.INT8, -100), ('test.u16', V.UINT16, 60000),
        ('test.i16', V.INT16, -30000), ('test.u32', V.UINT32, 4000000000), ('test.i32', V.INT32, -2000000000),
        ('test.f32', V.FLOAT32, 0.15625), ('test.bool', V.BOOL, True), ('test.bool_false', V.BOOL, False),
        ('test.string', V.STRING, 'h\u00e9llo \u2713 \U0001F642'), ('test.empty_string', V.STRING, ''),
        ('test.u64', V.UINT64, 2**64 - 1), ('test.i64', V.INT64, -2**63), ('test.f64', V.FLOAT64, 1.0 / 3.0),
        ('test.strings', V.ARRAY, ['a', '', '\u00fcn\u00ef']), ('test.i32s', V.ARRAY, [1, -2, 3]),
        ('test.f32s', V.ARRAY, [0.5, -1.25, 1e-3]), ('test.bools', V.ARRAY, [True, False, True]),
        ('test.u8s', V.ARRAY, b'\x00\x01\xff'), ('test.nested', V.ARRAY, [[1, 2], [3]]),
        ('test.nested_strings', V.ARRAY, [['x'], ['y', 'z']]),
    ]
    path = os.path.join(out, 'metadata.gguf')
    w = gguf.GGUFWriter(path, 'tern-test')
    w.add_custom_alignment(64)
    for k, t, v in kv:
        w.add_key_value(k, v, t)
    w.add_tensor('t', np.arange(33, dtype=np.float32) * np.float32(0.25))
    w.add_tensor('u', np.arange(7, dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    def enc(t, v):
        if t == V.ARRAY:
            if isinstance(v, bytes):
                return {'type': 'ARRAY', 'element_type': 'UINT8', 'value': list(v)}
            et = gguf.GGUFValueType.get_type(v[0])
            return {'type': 'ARRAY', 'element_type': et.name, 'value': [enc(et, x) for x in v]}
        if t == V.FLOAT32:
            return {'type': t.name, 'bits': f32_bits([v])[0]}
        if t == V.FLOAT64:
            return {'type': t.name, 'bits': f64_bits(v)}
        return {'type': t.name, 'value': v}

    expected = [{'key': 'general.architecture', 'type': 'STRING', 'value': 'tern-test'},
                {'key': 'general.alignment', 'type': 'UINT32', 'value': 64}]
    expected += [dict(key=k, **enc(t, v)) for k, t, v in kv]
    r = gguf.GGUFReader(path)
    tens = [{'name': t.name, 'type': t.tensor_type.name, 'ne': [int(v) for v in t.shape], 'offset': int(t.data_offset),
             'bytes': int(t.n_bytes), 'values': f32_bits(np.asarray(t.data, dtype=np.float32))} for t in r.tensors]
    with open(os.path.join(out, 'metadata.json'), 'w') as f:
        json.dump({'alignment': 64, 'data_offset': int(r.data_offset), 'metadata': expected, 'tensors': tens}, f,
                  indent=1, ensure_ascii=False)


def types(out):
    table = {t.name: [int(t), *gguf.GGML_QUANT_SIZES[t]] for t in T}
    with open(os.path.join(out, 'types.json'), 'w') as f:
        json.dump(table, f, indent=1)


if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else 'src/test/resources/gguf'
    os.makedirs(out, exist_ok=True)
    tensors(out)
    metadata(out)
    types(out)
