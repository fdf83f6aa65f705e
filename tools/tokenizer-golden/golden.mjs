// Golden-data generator for dev.tern.tokenizer tests, using Hugging Face's pure-JS tokenizers
// (@huggingface/tokenizers) as the independent reference implementation.
//
//   node golden.mjs train  <out tokenizer.json> <out tokenizer_config.json> <corpus files...>
//   node golden.mjs sp     <out tokenizer.json> <out tokenizer_config.json>
//   node golden.mjs golden <tokenizer.json> <tokenizer_config.json|-> <texts.json> <out.json>
//
// `train` learns a small byte-level BPE (GPT-2 byte map, Llama-3 split regex) so the byte-level code path can be
// tested without a real model. `golden` encodes each text with and without special tokens and decodes the ids.
import { readFileSync, writeFileSync } from "node:fs";
import { Tokenizer, SplitPreTokenizer, ByteLevelPreTokenizer } from "@huggingface/tokenizers";

const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const NUM_MERGES = 400;

function byteChars() {
  // Same construction as GPT-2's bytes_to_unicode, ordered by byte value.
  const printable = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + extra++));
  return out;
}

function train(outJson, outConfig, corpusFiles) {
  const split = new SplitPreTokenizer({ pattern: { Regex: LLAMA3_SPLIT }, behavior: "Isolated", invert: false });
  const bytes = new ByteLevelPreTokenizer({ add_prefix_space: false, use_regex: false });
  const counts = new Map();
  for (const f of corpusFiles) {
    const text = readFileSync(f, "utf8").normalize("NFC");
    for (const piece of split.pre_tokenize(text)) {
      for (const w of bytes.pre_tokenize(piece)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const words = [...counts.entries()].map(([w, c]) => ({ syms: Array.from(w), count: c }));
  const vocab = {};
  byteChars().forEach((c, i) => (vocab[c] = i));
  const merges = [];
  for (let m = 0; m < NUM_MERGES; m++) {
    const pairCounts = new Map();
    for (const { syms, count } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = syms[i] + "\u0000" + syms[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best = null;
    let bestCount = 0;
    for (const [k, c] of pairCounts) {
      // Deterministic: highest count, then lexicographically smallest pair.
      if (c > bestCount || (c === bestCount && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === null || bestCount < 2) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    vocab[a + b] = Object.keys(vocab).length;
    for (const w of words) {
      const out = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  let next = Object.keys(vocab).length;
  const added = [
    { content: "<|begin_of_text|>", special: true, normalized: false, lstrip: false, rstrip: false },
    { content: "<|end_of_text|>", special: true, normalized: false, lstrip: false, rstrip: false },
    { content: "<|eot_id|>", special: true, normalized: false, lstrip: false, rstrip: false },
    { content: "<|sep|>", special: true, normalized: false, lstrip: true, rstrip: true },
    { content: "ternary", special: false, normalized: true, lstrip: false, rstrip: false },
  ].map((t) => ({ id: next++, content: t.content, single_word: false, lstrip: t.lstrip, rstrip: t.rstrip,
                  normalized: t.normalized, special: t.special }));
  const bot = added[0];
  const tok = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: LLAMA3_SPLIT }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "Sequence",
      processors: [
        { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: "TemplateProcessing",
          single: [{ SpecialToken: { id: bot.content, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bot.content, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
            { SpecialToken: { id: bot.content, type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } },
          ],
          special_tokens: { [bot.content]: { id: bot.content, ids: [bot.id], tokens: [bot.content] } },
        },
      ],
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges,
    },
  };
  writeFileSync(outJson, JSON.stringify(tok, null, 1) + "\n");
  const config = {
    bos_token: "<|begin_of_text|>",
    eos_token: "<|end_of_text|>",
    clean_up_tokenization_spaces: false,
    model_max_length: 8192,
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  writeFileSync(outConfig, JSON.stringify(config, null, 2) + "\n");
  console.log(`trained ${merges.length} merges, vocab ${next}`);
}

// A tiny Llama-2-style tokenizer (Prepend/Replace normalizer, no pre-tokenizer, byte fallback with all 256 <0xXX>
// tokens) for exercising byte-fallback encode/decode, which the real 656k model's vocab (no byte tokens) cannot.
function sp(outJson, outConfig) {
  const vocab = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  const put = (t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  for (let b = 0; b < 256; b++) put(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  for (const c of ["\u2581", "a", "d", "e", "h", "i", "l", "n", "o", "r", "s", "t", "w", ".", ",", "\u00e9", "\n"]) put(c);
  const merges = ["\u2581 t", "h e", "\u2581t he", "l l", "e ll", "h ell", "hell o", "\u2581 w", "o r", "\u2581w or",
    "\u2581wor l", "\u2581worl d", "\u2581 hello", "\u2581 a", "n d", "\u2581a nd", "\u2581 \u2581", "\u2581\u2581 \u2581\u2581", "e \u2581"];
  for (const m of merges) {
    const [a, b] = m.split(" ");
    put(a);
    put(b);
    put(a + b);
  }
  const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const bos = { SpecialToken: { id: "<s>", type_id: 0 } };
  const tok = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")],
    normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "\u2581" },
      { type: "Replace", pattern: { String: " " }, content: "\u2581" }] },
    pre_tokenizer: null,
    post_processor: { type: "TemplateProcessing", single: [bos, { Sequence: { id: "A", type_id: 0 } }],
      pair: [bos, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "<s>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } } },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "\u2581" }, content: " " },
      { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
  writeFileSync(outJson, JSON.stringify(tok, null, 1) + "\n");
  writeFileSync(outConfig, JSON.stringify({ add_bos_token: true, add_eos_token: false, bos_token: "<s>", eos_token: "</s>",
    unk_token: "<unk>", clean_up_tokenization_spaces: false, legacy: false, tokenizer_class: "LlamaTokenizer" }, null, 2) + "\n");
}

function golden(tokPath, configPath, textsPath, outPath) {
  const tokJson = JSON.parse(readFileSync(tokPath, "utf8"));
  const config = configPath === "-" ? {} : JSON.parse(readFileSync(configPath, "utf8"));
  const tokenizer = new Tokenizer(tokJson, config);
  const unk = tokJson.model.unk_token != null ? tokJson.model.vocab[tokJson.model.unk_token] : undefined;
  // tokenizers.js maps each unknown character to its own unk; HF's Rust BPE with fuse_unk (which this config sets)
  // emits one unk for a run of them. The tokenizer.json we test has no pre-tokenizer, so a run of adjacent unk ids
  // always comes from one word, and collapsing them reproduces the Rust behaviour exactly.
  const fuse = (ids) =>
    tokJson.model.fuse_unk && unk !== undefined ? ids.filter((id, i) => !(id === unk && ids[i - 1] === unk)) : ids;
  const texts = JSON.parse(readFileSync(textsPath, "utf8"));
  const cases = texts.map((text) => {
    const ids = fuse(tokenizer.encode(text).ids);
    const plain = fuse(tokenizer.encode(text, { add_special_tokens: false }).ids);
    const decoded = ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true });
    const decodedWithSpecial = ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: false });
    return { text, ids, ids_plain: plain, decoded, decoded_with_special: decodedWithSpecial };
  });
  const out = { generator: "@huggingface/tokenizers " + JSON.parse(readFileSync(new URL("./node_modules/@huggingface/tokenizers/package.json", import.meta.url))).version, cases };
  writeFileSync(outPath, JSON.stringify(out, null, 1) + "\n");
  console.log(`${outPath}: ${cases.length} cases`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "train" && args.length >= 3) train(args[0], args[1], args.slice(2));
else if (mode === "sp" && args.length === 2) sp(...args);
else if (mode === "golden" && args.length === 4) golden(...args);
else {
  console.error("usage: node golden.mjs train <tokenizer.json> <tokenizer_config.json> <corpus...>\n" +
                "       node golden.mjs sp <tokenizer.json> <tokenizer_config.json>\n" +
                "       node golden.mjs golden <tokenizer.json> <tokenizer_config.json|-> <texts.json> <out.json>");
  process.exit(2);
}
