"""Prints what llama.cpp's own reader (gguf-py GGUFReader) sees in a GGUF file, as JSON on stdout.

Usage: PYTHONPATH=../shared/tools/gguf-py python3 tools/golden/gguf_check.py FILE.gguf

GgufPyCheckTest runs it on files Tern's GgufWriter wrote and compares every key, type, value and tensor. Values are
decoded from the parts gguf-py's reader split the file into; floats are IEEE bit patterns; tensors of the types Tern
reads are dequantized by gguf-py's quants.py.
"""
import json
import sys

from gguf_common import np, gguf, quants, f32_bits, f64_bits, READABLE

V = gguf.GGUFValueType


def walk(parts, i, vtype):
    """Decodes one value from gguf-py's parts list (the order GGUFReader appends them in); returns (value, next i).

    Arrays become {"element_type": T, "values": [...]}, nested ones included, each element read with its own type.
    """
    if vtype == V.STRING:
        return bytes(parts[i + 1]).decode('utf-8'), i + 2
    if vtype == V.ARRAY:
        etype, count = V(int(parts[i][0])), int(parts[i + 1][0])
        i += 2
        values = []
        for _ in range(count):
            v, i = walk(parts, i, etype)
            values.append(v)
        return {'element_type': etype.name, 'values': values}, i
    x = parts[i][0]
    if vtype == V.FLOAT32:
        return f32_bits([x])[0], i + 1
    if vtype == V.FLOAT64:
        return f64_bits(x), i + 1
    if vtype == V.BOOL:
        return bool(x), i + 1
    return int(x), i + 1


def main(path):
    r = gguf.GGUFReader(path)
    fields = []
    for name, f in r.fields.items():
        if name.startswith('GGUF.'):
            continue
        value, _ = walk(f.parts, 3, f.types[0])  # parts 0-2: key length, key, value type
        fields.append({'key': name, 'type': f.types[0].name, 'value': value})
    tensors = []
    for t in r.tensors:
        e = {'name': t.name, 'type': t.tensor_type.name, 'ne': [int(v) for v in t.shape], 'offset': int(t.data_offset),
             'bytes': int(t.n_bytes)}
        if t.tensor_type.name in READABLE:
            raw = np.asarray(t.data).view(np.uint8)
            e['values'] = f32_bits(quants.dequantize(raw, t.tensor_type))
        tensors.append(e)
    version = int(r.fields['GGUF.version'].parts[0][0])
    json.dump({'version': version, 'alignment': int(r.alignment), 'data_offset': int(r.data_offset),
               'metadata': fields, 'tensors': tensors}, sys.stdout, separators=(',', ':'), ensure_ascii=False)


if __name__ == '__main__':
    main(sys.argv[1])
