// Writes the text lists the goldens are computed on (kept in the golden files too, so Java tests need no node).
//   node texts.mjs <shared dir> <out dir>
import { readFileSync, writeFileSync } from "node:fs";
const [shared, outDir] = process.argv.slice(2);
const wiki = readFileSync(`${shared}/data/wikitext2/test.txt`, "utf8").slice(20000, 22048);
const stories = readFileSync(`${shared}/data/tinystories/valid-snippet.txt`, "utf8").slice(0, 2048);
const common = [
  "",
  "a",
  " ",
  "\n",
  "Once upon a time, there was a little girl named Lily.",
  " leading space",
  "   multiple   spaces  inside ",
  "line one\nline two\n\nline four\n",
  "Tabs\tand\r\nCRLF",
  "Unicode: caf\u00e9, na\u00efve, \u03a9, \u65e5\u672c\u8a9e",
  "Emoji \ud83d\ude00\ud83c\udf89 and a lone \u00e9",
  "\"Quotes\", apostrophes' and dashes - like -- this!",
  "Numbers 12345 and 3.14159",
  "\u2581already has metaspace \u2581 chars",
  "ALL CAPS SHOUTING AND lowercase",
  "I'm sure they'll say it's fine, WE'RE done, can't stop.",
  wiki,
  stories,
];
const tiny = [
  ...common,
  "<|start_story|>Once upon a time",
  "Hello <|start_story|> world <|end_story|>",
  "Hello<|start_story|>world",
  "The end.<|end_story|>",
  "<unk> literal",
];
const bytelevel = [
  ...common,
  "<|begin_of_text|>Hello world",
  "Hello <|eot_id|> world<|end_of_text|>",
  "left   <|sep|>   right",
  "a ternary model, Ternary and TERNARY",
  "Decomposed e\u0301 vs composed \u00e9",
  "def f(x):\n    return x**2  # square\n\n\n",
  "1234567 12 1",
  "\u0645\u0631\u062d\u0628\u0627 \u4f60\u597d \u043f\u0440\u0438\u0432\u0435\u0442",
];
const sp = [
  "", "the world", "hello \ud83d\ude00 world", "\u65e5\u672c and \u00e9 vs e\u0301", " the", "the\nworld  ",
  "<s>the</s>", "and the hello", "\u00e9\u00e9\u00e9", "x\u00ffy", "  ", "\u2581", "\ud83d\udc4d\ud83c\udffd ok",
];
writeFileSync(`${outDir}/texts-sp.json`, JSON.stringify(sp, null, 1));
writeFileSync(`${outDir}/texts-tinystories.json`, JSON.stringify(tiny, null, 1));
writeFileSync(`${outDir}/texts-bytelevel.json`, JSON.stringify(bytelevel, null, 1));
