# Writes a tiny random-weight llama GGUF whose tokenizer.ggml.* metadata comes from a GgufVocab dumped as JSON
# (usage: write_gguf.py vocab.json out.gguf), using llama.cpp's own Python writer (PYTHONPATH=../shared/tools/gguf-py).
import sys, types, json
import numpy as np
if 'sentencepiece' not in sys.modules:
    sp = types.ModuleType('sentencepiece'); sp.SentencePieceProcessor = object; sys.modules['sentencepiece'] = sp
import gguf
src, out = sys.argv[1], sys.argv[2]
v = json.load(open(src))
n_vocab = len(v['tokens']); n_embd, n_ff, n_layer, n_head, n_head_kv, n_ctx = 64, 128, 1, 4, 4, 4096
rng = np.random.default_rng(0)
rnd = lambda *s: (rng.standard_normal(s, dtype=np.float32) * np.float32(0.02))
w = gguf.GGUFWriter(out, 'llama')
w.add_name('tok-golden'); w.add_context_length(n_ctx); w.add_embedding_length(n_embd); w.add_block_count(n_layer)
w.add_feed_forward_length(n_ff); w.add_head_count(n_head); w.add_head_count_kv(n_head_kv)
w.add_rope_dimension_count(n_embd // n_head); w.add_layer_norm_rms_eps(1e-5); w.add_vocab_size(n_vocab)
w.add_file_type(gguf.LlamaFileType.ALL_F32)
w.add_tokenizer_model(v['model'])
if v['pre']: w.add_tokenizer_pre(v['pre'])
w.add_token_list(v['tokens'])
if v['scores'] is not None: w.add_token_scores(v['scores'])
w.add_token_types(v['types'])
if v['merges']: w.add_token_merges(v['merges'])
for k, f in (('bos', w.add_bos_token_id), ('eos', w.add_eos_token_id), ('unk', w.add_unk_token_id), ('pad', w.add_pad_token_id)):
    if v[k] >= 0: f(v[k])
w.add_add_bos_token(v['addBos']); w.add_add_eos_token(v['addEos'])
if v['model'] == 'llama': w.add_add_space_prefix(v['addSpacePrefix'])
ones = lambda n: np.ones(n, dtype=np.float32)
w.add_tensor('token_embd.weight', rnd(n_vocab, n_embd))
p = 'blk.0.'
w.add_tensor(p + 'attn_norm.weight', ones(n_embd))
for t, s in (('attn_q', (n_embd, n_embd)), ('attn_k', (n_embd, n_embd)), ('attn_v', (n_embd, n_embd)), ('attn_output', (n_embd, n_embd))):
    w.add_tensor(p + t + '.weight', rnd(*s))
w.add_tensor(p + 'ffn_norm.weight', ones(n_embd))
w.add_tensor(p + 'ffn_gate.weight', rnd(n_ff, n_embd)); w.add_tensor(p + 'ffn_up.weight', rnd(n_ff, n_embd)); w.add_tensor(p + 'ffn_down.weight', rnd(n_embd, n_ff))
w.add_tensor('output_norm.weight', ones(n_embd)); w.add_tensor('output.weight', rnd(n_vocab, n_embd))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
