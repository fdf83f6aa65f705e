# Prompt ids from llama.cpp itself for GGUFs carrying GgufVocab's metadata: the independent golden for SpmTokenizer and
# GgufBpeTokenizer. Needs sp.json, l2c.json, bl.json (GgufVocab fields dumped as JSON, see README.md) and their GGUFs
# from write_gguf.py in the current directory; writes golden-gguf-llamacpp.json.
import json, random, re, subprocess, sys
HOSTILE = [" ", "  ", "   ", " \n ", "a", " leading", "   three leading", "trailing ", "trailing   ",
    "multiple    inner   spaces", "line one\nline two\n\nline four", "\ttab\tand\r\nCRLF", "héllo wörld — naïve café",
    "日本語のテキスト", "emoji 🎉🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "@-@ 1 @,@ 000 $ 5 %", "\u0001 control", "combining e\u0301 and Å",
    "once upon a time ▁ a literal meta space", "the the the hello world, and.", "  the  hello  ", "ééé  éé",
    "Lily's mom said, \"Don't go!\"\n\nTim ran.", "hello<s>world</s> <unk>x", "numbers 1234567 and 3.14159",
    "<|begin_of_text|>special<|eot_id|> tokens<|end_of_text|>"]
story = open('/work/shared/data/tinystories/valid-snippet.txt').read().split('\n')
wiki = [l for l in open('/work/shared/data/wikitext2/test.txt').read()[:60000].split('\n') if l.strip()]
def texts(vocab, seed):
    rnd = random.Random(seed)
    out = list(HOSTILE) + [l for l in story[:3] if l] + wiki[:12]
    pieces = [t for t, ty in zip(vocab['tokens'], vocab['types']) if ty == 1]
    for _ in range(25):
        s = ''.join(rnd.choice(pieces).replace('\u2581', rnd.choice([' ', ''])).replace('\u0120', ' ') for _ in range(rnd.randint(1, 6)))
        out.append(s)
    return [t for t in out if t and not t.endswith('\n') and '\\' not in t]
def run(gguf, text):
    open('p.txt', 'w').write(text)
    r = subprocess.run(['nice', '-n', '19', '/work/shared/tools/llama.cpp/bin/llama-cli', '-m', gguf, '-f', 'p.txt', '-n', '0',
        '-no-cnv', '--verbose-prompt', '--no-escape', '-t', '1', '-c', '4096'], capture_output=True, timeout=120)
    out = r.stdout.decode('utf-8', 'replace') + r.stderr.decode('utf-8', 'replace')
    m = re.search(r'number of tokens in prompt = (\d+)\n', out)
    n = int(m.group(1))
    ids = [int(x) for x in re.findall(r"^ *(\d+) -> '", out[m.end():], re.M)[:n]]
    assert len(ids) == n, (text, out[m.end():m.end() + 500])
    return ids
result = {"llama_cpp": "c392e5094deaf2d1a7c18683214f007fad3fe42b (b4747), llama-cli --verbose-prompt -f", "cases": {}}
for name in ['sp', 'l2c', 'bl']:
    vocab = json.load(open(name + '.json'))
    result['cases'][name] = [{"text": t, "ids": run(name + '.gguf', t)} for t in texts(vocab, 5)]
    print(name, len(result['cases'][name]), file=sys.stderr)
json.dump(result, open('golden-gguf-llamacpp.json', 'w'), ensure_ascii=False)
