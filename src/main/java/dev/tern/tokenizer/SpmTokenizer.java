package dev.tern.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * llama.cpp's SentencePiece tokenizer (tokenizer.ggml.model "llama"): spaces become ▁ (plus one in front of the text
 * and after every special token when add_space_prefix), the text splits into UTF-8 characters, and the adjacent pair
 * whose concatenation is a token with the highest score merges first, leftmost on ties; characters left that are not
 * tokens become byte tokens &lt;0xXX&gt; (or, without them, the unknown token).
 */
public final class SpmTokenizer extends GgufTokenizerBase {
    private static final String SPACE = "\u2581";

    /** Text to id; on duplicate texts the last id wins, as in llama.cpp's token_to_id. */
    private final Map<String, Integer> lookup;
    /**
     * Single characters that are no token but form one with a neighbour ("XY" in the vocabulary without "X"): llama.cpp
     * works on strings so it can merge them, the id-based merger needs an id for them (vocabSize + index).
     */
    private final Map<String, Integer> pseudo = new HashMap<>();
    private final List<String> pseudoText = new ArrayList<>();
    private final MergeEngine merger;
    private final int[] byteIds = new int[256];

    SpmTokenizer(GgufVocab vocab) {
        super(vocab, false);
        lookup = new HashMap<>(tokens.length * 2);
        for (int id = 0; id < tokens.length; id++) {
            lookup.put(tokens[id], id);
        }
        merger = new MergeEngine(buildPairs(vocab.scores()));
        for (int b = 0; b < 256; b++) {
            // llama.cpp's byte_to_token: the <0xXX> token, else the byte as a one-character token.
            Integer id = lookup.get(String.format("<0x%02X>", b));
            if (id == null && b < 0x80) {
                id = lookup.get(String.valueOf((char) b));
            }
            byteIds[b] = id == null ? -1 : id;
        }
    }

    /**
     * Every pair llama.cpp could merge is some token split in two, so splitting each token at every character boundary
     * (halves that are tokens or single characters) yields the complete pair table. Ranks are dense by descending score,
     * so equal scores tie-break by position like llama.cpp's queue.
     */
    private LongLongMap buildPairs(float[] scores) {
        float[] distinct = scores.clone();
        Arrays.sort(distinct);
        Map<Float, Integer> rankOf = new HashMap<>();
        for (int i = distinct.length - 1; i >= 0; i--) {
            rankOf.putIfAbsent(distinct[i] == 0.0f ? 0.0f : distinct[i], rankOf.size());
        }
        BitSet lengths = new BitSet();
        for (String s : tokens) {
            lengths.set(s.length());
        }
        LongLongMap pairs = new LongLongMap(tokens.length * 4);
        for (int t = 0; t < tokens.length; t++) {
            String s = tokens[t];
            if (lookup.get(s) != t || s.codePointCount(0, s.length()) < 2) {
                continue;
            }
            int first = Character.charCount(s.codePointAt(0));
            int last = Character.charCount(s.codePointBefore(s.length()));
            float sc = scores[t] == 0.0f ? 0.0f : scores[t];
            // Only split where each half could be a token or one character: all splits of a long token is quadratic.
            for (int k = 1; k < s.length(); k++) {
                boolean leftOk = k == first || lengths.get(k);
                boolean rightOk = s.length() - k == last || lengths.get(s.length() - k);
                if (!leftOk || !rightOk || Character.isLowSurrogate(s.charAt(k))) {
                    continue;
                }
                int a = idOrPseudo(s.substring(0, k), k == first);
                int b = idOrPseudo(s.substring(k), s.length() - k == last);
                if (a >= 0 && b >= 0) {
                    pairs.putIfAbsent(MergeEngine.pairKey(a, b), MergeEngine.pairValue(rankOf.get(sc), t));
                }
            }
        }
        return pairs;
    }

    private int idOrPseudo(String half, boolean oneChar) {
        Integer id = lookup.get(half);
        if (id != null) {
            return id;
        }
        if (!oneChar) {
            return -1;
        }
        return pseudo.computeIfAbsent(half, h -> {
            pseudoText.add(h);
            return tokens.length + pseudoText.size() - 1;
        });
    }

    @Override
    boolean stripsLeadingSpace() {
        return vocab.addSpacePrefix();
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        String t = (vocab.addSpacePrefix() && afterSpecial ? SPACE : "") + text.replace(" ", SPACE);
        IntList syms = new IntList(t.length());
        // Characters that neither are tokens nor merge get ids past the pseudo ones, valid for this call only.
        List<String> strays = new ArrayList<>();
        int strayBase = tokens.length + pseudoText.size();
        for (int i = 0; i < t.length(); ) {
            int len = Character.charCount(t.codePointAt(i));
            String ch = t.substring(i, i + len);
            i += len;
            Integer id = lookup.get(ch);
            if (id == null) {
                id = pseudo.get(ch);
            }
            if (id == null) {
                id = strayBase + strays.size();
                strays.add(ch);
            }
            syms.add(id);
        }
        boolean unkRun = false;
        for (int id : merger.merge(syms.toArray())) {
            if (id < tokens.length) {
                out.add(id);
                unkRun = false;
                continue;
            }
            byte[] bytes = utf8(id < strayBase ? pseudoText.get(id - tokens.length) : strays.get(id - strayBase));
            if (hasByteTokens(bytes)) {
                for (byte b : bytes) {
                    out.add(byteIds[b & 0xff]);
                }
                unkRun = false;
            } else if (vocab.unkId() >= 0 && !unkRun) {
                // llama.cpp aborts on a byte without a token; like HF (fuse_unk) and SentencePiece, a run of such
                // characters becomes one unknown token instead (and vanishes when there is no unknown token).
                out.add(vocab.unkId());
                unkRun = true;
            }
        }
    }

    private boolean hasByteTokens(byte[] bytes) {
        for (byte b : bytes) {
            if (byteIds[b & 0xff] < 0) {
                return false;
            }
        }
        return true;
    }

    /** The merge score of a token (higher merges first). */
    public float score(int id) {
        checkId(id);
        return vocab.scores()[id];
    }

    @Override
    public String toString() {
        return "SpmTokenizer[vocab=" + tokens.length + ", bos=" + vocab.bosId() + ", eos=" + vocab.eosId() + "]";
    }
}
