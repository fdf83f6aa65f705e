package dev.tern.tokenizer;

import dev.tern.TernException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * llama.cpp's byte-level BPE tokenizer (tokenizer.ggml.model "gpt2"): the pre-tokenizer regexes of tokenizer.ggml.pre
 * split the text into words, each word's UTF-8 bytes become GPT-2 byte characters and merge by rank.
 */
public final class GgufBpeTokenizer extends GgufTokenizerBase {
    private final List<Pattern> regexes;
    private final BpeModel model;

    GgufBpeTokenizer(GgufVocab vocab) {
        super(vocab, true);
        this.regexes = GgufPre.regexes(vocab.pre());
        Map<String, Integer> ids = new HashMap<>(tokens.length * 2);
        for (int id = 0; id < tokens.length; id++) {
            ids.put(tokens[id], id);
        }
        LongLongMap merges = new LongLongMap(vocab.merges().size());
        int rank = 0;
        for (String m : vocab.merges()) {
            // llama.cpp splits a merge at the first space after its first character.
            int sp = m.indexOf(' ', 1);
            if (sp < 0) {
                throw new TernException("tokenizer.ggml.merges[" + rank + "] \"" + m + "\" is not of the form \"a b\"");
            }
            Integer a = ids.get(m.substring(0, sp));
            Integer b = ids.get(m.substring(sp + 1));
            Integer merged = ids.get(m.substring(0, sp) + m.substring(sp + 1));
            // A merge whose parts or result are no tokens can never yield a token (llama.cpp would emit its bytes).
            if (a != null && b != null && merged != null) {
                merges.putIfAbsent(MergeEngine.pairKey(a, b), MergeEngine.pairValue(rank, merged));
            }
            rank++;
        }
        this.model = new BpeModel(ids, merges, false, -1, false, GgufPre.ignoresMerges(vocab.pre()));
    }

    @Override
    boolean stripsLeadingSpace() {
        return false;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        List<String> words = List.of(text);
        // llama.cpp applies its regexes in turn, each splitting every piece into matches and the gaps between them.
        for (Pattern p : regexes) {
            List<String> next = new ArrayList<>(words.size() * 2);
            for (String w : words) {
                PreTokenizer.splitByPattern(w, p, "Isolated", false, next);
            }
            words = next;
        }
        for (String w : words) {
            model.encodeWord(ByteLevelMap.encode(w), out);
        }
    }

    @Override
    public String toString() {
        return "GgufBpeTokenizer[vocab=" + tokens.length + ", pre=" + vocab.pre() + ", bos=" + vocab.bosId() + "]";
    }
}
