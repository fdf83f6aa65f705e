package dev.tern.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.TernException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Converts a Hugging Face tokenizer.json into GGUF tokenizer metadata (see {@link GgufVocab#fromHfTokenizer}). */
final class HfToGguf {
    private static final String SPACE = "\u2581";

    private HfToGguf() {}

    static GgufVocab convert(Path tokenizerJson, Path tokenizerConfigJson, int vocabSize) {
        // Loading it first reuses HfTokenizer's checks and its BOS/EOS resolution (post_processor + config flags).
        HfTokenizer hf = HfTokenizer.load(tokenizerJson, tokenizerConfigJson);
        String file = tokenizerJson.toString();
        JsonNode root = HfTokenizer.readJson(tokenizerJson);
        JsonNode config = tokenizerConfigJson == null ? null : HfTokenizer.readJson(tokenizerConfigJson);
        GgufVocab.checkVocabSize(tokenizerJson, hf.vocabSize(), vocabSize);
        boolean sentencePiece = isSentencePiece(root, file);
        if (!sentencePiece && !isByteLevel(root, file)) {
            throw new TernException(file + ": unsupported tokenizer kind for GGUF (normalizer " + typeOf(root.get("normalizer"))
                    + ", pre_tokenizer " + typeOf(root.get("pre_tokenizer"))
                    + "); supported are SentencePiece-style BPE (▁ for spaces) and byte-level BPE");
        }
        JsonNode m = root.get("model");

        String[] texts = new String[vocabSize];
        int[] types = new int[vocabSize];
        Map<String, Integer> ids = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.get("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            texts[e.getValue().asInt()] = e.getKey();
            types[e.getValue().asInt()] = sentencePiece && TokenDecoder.byteToken(e.getKey()) >= 0 ? GgufVocab.BYTE : GgufVocab.NORMAL;
            ids.put(e.getKey(), e.getValue().asInt());
        }
        for (JsonNode a : root.path("added_tokens")) {
            int id = a.get("id").asInt();
            texts[id] = a.get("content").asText();
            types[id] = Json.bool(a, "special", false) ? GgufVocab.CONTROL : GgufVocab.USER_DEFINED;
            ids.putIfAbsent(texts[id], id);
        }
        String unk = Json.text(m, "unk_token", null);
        int unkId = unk == null ? -1 : ids.getOrDefault(unk, -1);
        if (unkId >= 0) {
            types[unkId] = GgufVocab.UNKNOWN;
        }

        List<String[]> merges = parseMerges(m.get("merges"), file);
        float[] scores = sentencePiece ? scores(texts, ids, merges) : null;
        List<String> tokens = new ArrayList<>(vocabSize);
        for (int id = 0; id < vocabSize; id++) {
            if (texts[id] == null) {
                // Ids the tokenizer leaves out (holes, or rows past its end) are unused padding.
                String name = "[PAD" + id + "]";
                if (ids.containsKey(name)) {
                    throw new TernException(file + ": token " + name + " already exists; cannot name padding token " + id);
                }
                texts[id] = name;
                types[id] = GgufVocab.UNUSED;
                if (scores != null) {
                    scores[id] = -merges.size() - 2;
                }
            }
            tokens.add(texts[id]);
        }

        int bos = hf.bosId();
        int eos = hf.eosIds().isEmpty() ? -1 : hf.eosIds().iterator().next();
        boolean addBos = addsOnly(hf.prefixIds(), bos, "before", file);
        boolean addEos = addsOnly(hf.suffixIds(), eos, "after", file);
        int pad = -1;
        if (config != null && !Json.isNull(config.get("pad_token"))) {
            JsonNode p = config.get("pad_token");
            pad = ids.getOrDefault(p.isObject() ? Json.text(p, "content", "") : p.asText(), -1);
        }
        List<String> mergeList = new ArrayList<>(merges.size());
        if (!sentencePiece) {
            for (String[] ab : merges) {
                mergeList.add(ab[0] + " " + ab[1]);
            }
        }
        String pre = sentencePiece ? null : GgufPre.fromJson(root.get("pre_tokenizer"), file);
        return new GgufVocab(sentencePiece ? GgufVocab.LLAMA : GgufVocab.GPT2, pre, List.copyOf(tokens), scores, types,
                List.copyOf(mergeList), bos, eos, unkId, pad, addBos, addEos, sentencePiece && addsSpacePrefix(root));
    }

    /**
     * Scores that make llama.cpp's "merge the best-scoring pair" replay BPE's "apply the lowest-ranked merge": a token
     * scores minus the rank of the first merge producing it. Tokens no merge produces (characters, bytes, specials)
     * score below every merge; llama.cpp never builds them from pairs anyway, except a multi-character one by accident.
     */
    static float[] scores(String[] texts, Map<String, Integer> ids, List<String[]> merges) {
        float[] scores = new float[texts.length];
        boolean[] set = new boolean[texts.length];
        for (int rank = 0; rank < merges.size(); rank++) {
            Integer t = ids.get(merges.get(rank)[0] + merges.get(rank)[1]);
            if (t != null && !set[t]) {
                scores[t] = -rank;
                set[t] = true;
            }
        }
        for (int id = 0; id < texts.length; id++) {
            if (!set[id]) {
                scores[id] = -merges.size() - 1;
            }
        }
        return scores;
    }

    static List<String[]> parseMerges(JsonNode node, String file) {
        List<String[]> out = new ArrayList<>();
        for (JsonNode mn : node) {
            if (mn.isTextual()) {
                String s = mn.asText();
                int sp = s.indexOf(' ', 1);
                out.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
            } else {
                out.add(new String[] {mn.get(0).asText(), mn.get(1).asText()});
            }
        }
        return out;
    }

    /** Whether the template adds exactly the given token (GGUF can only say add_bos/add_eos); an empty one adds nothing. */
    private static boolean addsOnly(int[] added, int id, String where, String file) {
        if (added.length == 0) {
            return false;
        }
        if (added.length == 1 && added[0] == id) {
            return true;
        }
        throw new TernException(file + ": the post_processor adds " + Arrays.toString(added) + " " + where
                + " the text; GGUF can only express adding the BOS/EOS token " + id);
    }

    private static String typeOf(JsonNode n) {
        return Json.isNull(n) ? "none" : n.path("type").asText("?");
    }

    private static List<JsonNode> flatten(JsonNode n, String listField) {
        List<JsonNode> out = new ArrayList<>();
        if (Json.isNull(n)) {
            return out;
        }
        if ("Sequence".equals(n.path("type").asText())) {
            n.path(listField).forEach(out::add);
        } else {
            out.add(n);
        }
        return out;
    }

    /** ▁-for-space BPE: Prepend/Replace normalizers (Llama 2 style) or a Metaspace pre-tokenizer, nothing else. */
    private static boolean isSentencePiece(JsonNode root, String file) {
        boolean replaces = false;
        for (JsonNode n : flatten(root.get("normalizer"), "normalizers")) {
            String type = n.path("type").asText();
            if (type.equals("Replace") && " ".equals(n.path("pattern").path("String").asText(null))
                    && SPACE.equals(n.path("content").asText())) {
                replaces = true;
            } else if (!(type.equals("Prepend") && SPACE.equals(n.path("prepend").asText()))) {
                return false;
            }
        }
        List<JsonNode> pre = flatten(root.get("pre_tokenizer"), "pretokenizers");
        if (pre.isEmpty()) {
            return replaces;
        }
        return pre.size() == 1 && pre.get(0).path("type").asText().equals("Metaspace")
                && SPACE.equals(Json.text(pre.get(0), "replacement", SPACE));
    }

    private static boolean addsSpacePrefix(JsonNode root) {
        for (JsonNode n : flatten(root.get("normalizer"), "normalizers")) {
            if (n.path("type").asText().equals("Prepend")) {
                return true;
            }
        }
        for (JsonNode n : flatten(root.get("pre_tokenizer"), "pretokenizers")) {
            if (n.path("type").asText().equals("Metaspace")) {
                String scheme = Json.text(n, "prepend_scheme", null);
                return scheme == null ? Json.bool(n, "add_prefix_space", true) : !scheme.equals("never");
            }
        }
        return false;
    }

    /** GPT-2 byte-level BPE; refuses what llama.cpp's gpt2 vocabulary cannot do (a prefix space, normalizers). */
    private static boolean isByteLevel(JsonNode root, String file) {
        List<JsonNode> pre = flatten(root.get("pre_tokenizer"), "pretokenizers");
        boolean byteLevel = false;
        for (JsonNode p : pre) {
            if (p.path("type").asText().equals("ByteLevel")) {
                byteLevel = true;
                if (Json.bool(p, "add_prefix_space", true)) {
                    throw new TernException(file + ": unsupported for GGUF: ByteLevel pre_tokenizer with add_prefix_space"
                            + " (llama.cpp's gpt2 vocabulary adds no prefix space)");
                }
            }
        }
        if (!byteLevel) {
            return false;
        }
        for (JsonNode n : flatten(root.get("normalizer"), "normalizers")) {
            // NFC is accepted: llama.cpp does not normalize, which differs only on input that is not already NFC.
            if (!n.path("type").asText().equals("NFC")) {
                throw new TernException(file + ": unsupported for GGUF: normalizer " + typeOf(n) + " on a byte-level BPE tokenizer");
            }
        }
        return true;
    }
}
