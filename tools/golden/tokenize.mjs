// Tokenizes a text file with Hugging Face's pure-JS tokenizer (@huggingface/tokenizers, installed in
// ../tokenizer-golden) and prints the ids as a JSON array: the independent half of the perplexity cross-check.
//   node tools/golden/tokenize.mjs MODEL_DIR TEXT_FILE > ids.json
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(new URL("../tokenizer-golden/package.json", import.meta.url));
const mod = await import(require.resolve("@huggingface/tokenizers"));
const Tokenizer = mod.Tokenizer ?? mod.default.Tokenizer;
const [dir, file] = process.argv.slice(2);
const tok = new Tokenizer(JSON.parse(readFileSync(`${dir}/tokenizer.json`, "utf8")),
                          JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, "utf8")));
// The JS library ignores the BPE model's fuse_unk; Hugging Face's Rust library (what transformers uses) collapses a
// run of unknown-token ids into one, so do the same here.
const tj = JSON.parse(readFileSync(`${dir}/tokenizer.json`, "utf8"));
const unk = tj.model.fuse_unk ? tj.model.vocab[tj.model.unk_token] : -1;
const ids = tok.encode(readFileSync(file, "utf8")).ids.filter((id, i, a) => !(id === unk && i > 0 && a[i - 1] === unk));
process.stdout.write(JSON.stringify(ids));
