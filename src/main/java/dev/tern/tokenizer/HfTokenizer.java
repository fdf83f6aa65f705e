package dev.tern.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A Hugging Face tokenizer.json BPE tokenizer (SentencePiece-style with byte fallback, or GPT-2 byte-level). */
public final class HfTokenizer implements Tokenizer {
    /** Ids size the id-to-token table: cap them (as ModelConfig caps vocab_size) so a hostile id cannot exhaust memory. */
    static final int MAX_ID = (1 << 22) - 1;

    private final BpeModel model;
    private final String[] idToText;
    private final boolean[] special;
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenDecoder decoder;
    private final AddedTokenSplitter rawSplitter;
    private final AddedTokenSplitter normalizedSplitter;
    private final int[] prefixIds;
    private final int[] suffixIds;
    private final int bosId;
    private final Set<Integer> eosIds;
    private final boolean cleanUpSpaces;

    private HfTokenizer(Builder b) {
        this.model = b.model;
        this.idToText = b.idToText;
        this.special = b.special;
        this.normalizer = b.normalizer;
        this.preTokenizer = b.preTokenizer;
        this.decoder = b.decoder;
        this.rawSplitter = b.rawSplitter;
        this.normalizedSplitter = b.normalizedSplitter;
        this.prefixIds = b.prefixIds;
        this.suffixIds = b.suffixIds;
        this.bosId = b.bosId;
        this.eosIds = b.eosIds;
        this.cleanUpSpaces = b.cleanUpSpaces;
    }

    /**
     * Loads a tokenizer.json, optionally with its tokenizer_config.json (which decides add_bos_token / add_eos_token,
     * bos_token, eos_token and clean_up_tokenization_spaces when present).
     */
    public static HfTokenizer load(Path tokenizerJson, Path tokenizerConfigJson) {
        JsonNode root = readJson(tokenizerJson);
        JsonNode config = tokenizerConfigJson == null ? null : readJson(tokenizerConfigJson);
        try {
            return new Builder(tokenizerJson.toString(), root, config, String.valueOf(tokenizerConfigJson)).build();
        } catch (TernException e) {
            throw e;
        } catch (RuntimeException e) {
            // Schema surprises (wrong node kinds) must still surface as one clear line naming the file.
            throw new TernException(tokenizerJson + ": unexpected tokenizer.json content (" + e + ")", e);
        }
    }

    static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new TernException(file + ": tokenizer file not found");
        }
        try {
            JsonNode node = new ObjectMapper().readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new TernException(file + ": malformed tokenizer file (expected a JSON object)");
            }
            return node;
        } catch (JacksonException e) {
            throw new TernException(file + ": malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TernException(file + ": cannot read tokenizer file: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addBos) {
            out.addAll(prefixIds);
        }
        List<Section> sections = rawSplitter.split(text);
        for (int i = 0; i < sections.size(); i++) {
            Section section = sections.get(i);
            if (section.tokenId >= 0) {
                out.add(section.tokenId);
                continue;
            }
            if (section.text.isEmpty()) {
                continue;
            }
            String normalized = normalizer == null ? section.text : normalizer.normalize(section.text);
            if (normalized.isEmpty()) {
                continue;
            }
            for (Section sub : normalizedSplitter.split(normalized)) {
                if (sub.tokenId >= 0) {
                    out.add(sub.tokenId);
                } else if (!sub.text.isEmpty()) {
                    encodeSection(sub.text, i, out);
                }
            }
        }
        if (addBos) {
            out.addAll(suffixIds);
        }
        return out.toArray();
    }

    private void encodeSection(String text, int sectionIndex, IntList out) {
        if (preTokenizer == null) {
            model.encodeWord(text, out);
            return;
        }
        List<String> words = new ArrayList<>();
        preTokenizer.split(text, sectionIndex, words);
        for (String w : words) {
            model.encodeWord(w, out);
        }
    }

    @Override
    public String decode(int[] ids) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            checkId(id);
            if (!special[id]) {
                tokens.add(idToText[id] == null ? "" : idToText[id]);
            }
        }
        String text = decoder == null ? String.join(" ", tokens) : String.join("", decoder.decodeChain(tokens));
        return cleanUpSpaces ? cleanUp(text) : text;
    }

    /** transformers' clean_up_tokenization: glue punctuation and English contractions to the preceding word. */
    static String cleanUp(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    private void checkId(int id) {
        if (id < 0 || id >= idToText.length) {
            throw new TernException("token id " + id + " is outside the tokenizer's vocabulary (size " + idToText.length + ")");
        }
    }

    @Override
    public StreamDecoder streamDecoder() {
        return new WindowedStreamDecoder(this::decode, id -> {
            checkId(id);
            return special[id];
        });
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public Set<Integer> eosIds() {
        return eosIds;
    }

    @Override
    public int vocabSize() {
        return idToText.length;
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return idToText[id] == null ? "" : idToText[id];
    }

    @Override
    public boolean isSpecial(int id) {
        checkId(id);
        return special[id];
    }

    /** Text between added tokens (tokenId -1), or one added token. */
    record Section(String text, int tokenId) {}

    /**
     * Cuts text at added tokens, longest match first, then applies lstrip/rstrip to the neighbouring text the way
     * transformers.js does (trimming all whitespace next to the token).
     */
    static final class AddedTokenSplitter {
        private final Map<Character, List<String>> byFirstChar = new HashMap<>();
        private final Map<String, AddedToken> tokens = new HashMap<>();

        void add(String pattern, AddedToken token) {
            if (pattern.isEmpty() || tokens.putIfAbsent(pattern, token) != null) {
                return;
            }
            List<String> list = byFirstChar.computeIfAbsent(pattern.charAt(0), c -> new ArrayList<>());
            list.add(pattern);
            list.sort((a, b) -> b.length() - a.length());
        }

        List<Section> split(String text) {
            if (tokens.isEmpty()) {
                return List.of(new Section(text, -1));
            }
            List<Section> out = new ArrayList<>();
            int start = 0;
            int i = 0;
            while (i < text.length()) {
                List<String> candidates = byFirstChar.get(text.charAt(i));
                String match = null;
                if (candidates != null) {
                    for (String c : candidates) {
                        if (text.startsWith(c, i)) {
                            match = c;
                            break;
                        }
                    }
                }
                if (match == null) {
                    i++;
                    continue;
                }
                if (i > start) {
                    out.add(new Section(text.substring(start, i), -1));
                }
                out.add(new Section(match, tokens.get(match).id()));
                i += match.length();
                start = i;
            }
            if (start < text.length()) {
                out.add(new Section(text.substring(start), -1));
            }
            for (int k = 0; k < out.size(); k++) {
                Section s = out.get(k);
                if (s.tokenId < 0) {
                    continue;
                }
                AddedToken t = tokens.get(s.text);
                if (t.lstrip() && k > 0 && out.get(k - 1).tokenId < 0) {
                    out.set(k - 1, new Section(trimEnd(out.get(k - 1).text), -1));
                }
                if (t.rstrip() && k + 1 < out.size() && out.get(k + 1).tokenId < 0) {
                    out.set(k + 1, new Section(trimStart(out.get(k + 1).text), -1));
                }
            }
            return out;
        }
    }

    record AddedToken(int id, String content, boolean special, boolean normalized, boolean lstrip, boolean rstrip) {}

    /** ECMAScript's whitespace set (what String.trim in transformers.js strips). */
    static boolean isJsSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r') || c == '\u00a0' || c == '\u1680' || (c >= '\u2000' && c <= '\u200a')
                || c == '\u2028' || c == '\u2029' || c == '\u202f' || c == '\u205f' || c == '\u3000' || c == '\ufeff';
    }

    static String trimEnd(String s) {
        int end = s.length();
        while (end > 0 && isJsSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    static String trimStart(String s) {
        int start = 0;
        while (start < s.length() && isJsSpace(s.charAt(start))) {
            start++;
        }
        return s.substring(start);
    }

    private static final class Builder {
        final String file;
        final String configFile;
        final JsonNode root;
        final JsonNode config;
        BpeModel model;
        String[] idToText;
        boolean[] special;
        TextNormalizer normalizer;
        PreTokenizer preTokenizer;
        TokenDecoder decoder;
        AddedTokenSplitter rawSplitter = new AddedTokenSplitter();
        AddedTokenSplitter normalizedSplitter = new AddedTokenSplitter();
        int[] prefixIds = new int[0];
        int[] suffixIds = new int[0];
        int bosId = -1;
        Set<Integer> eosIds;
        boolean cleanUpSpaces;
        final Map<String, Integer> tokenToId = new HashMap<>();

        Builder(String file, JsonNode root, JsonNode config, String configFile) {
            this.file = file;
            this.root = root;
            this.config = config;
            this.configFile = configFile;
        }

        HfTokenizer build() {
            JsonNode m = root.get("model");
            if (Json.isNull(m) || !m.isObject()) {
                throw new TernException(file + ": no \"model\" section");
            }
            String type = Json.text(m, "type", "BPE");
            if (!type.equals("BPE")) {
                throw new TernException(file + ": unsupported model type " + type + " (only BPE is supported)");
            }
            for (String opt : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
                String v = Json.text(m, opt, "");
                if (!v.isEmpty()) {
                    throw new TernException(file + ": unsupported BPE option " + opt + "=\"" + v + "\"");
                }
            }
            if (!Json.isNull(m.get("dropout")) && m.get("dropout").asDouble() != 0.0) {
                throw new TernException(file + ": BPE dropout is not supported for inference");
            }
            JsonNode vocabNode = m.get("vocab");
            if (Json.isNull(vocabNode) || !vocabNode.isObject()) {
                throw new TernException(file + ": model has no vocab object");
            }
            Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
            int maxId = -1;
            for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0 || e.getValue().asInt() > MAX_ID) {
                    throw new TernException(file + ": vocab entry " + e.getKey() + " has a bad id " + e.getValue());
                }
                int id = e.getValue().asInt();
                vocab.put(e.getKey(), id);
                maxId = Math.max(maxId, id);
            }
            LongLongMap merges = parseMerges(m.get("merges"), vocab);

            List<AddedToken> added = new ArrayList<>();
            JsonNode addedNode = root.get("added_tokens");
            if (!Json.isNull(addedNode)) {
                for (JsonNode a : addedNode) {
                    if (!a.has("id") || !a.has("content")) {
                        throw new TernException(file + ": added token without id or content");
                    }
                    JsonNode idNode = a.get("id");
                    if (!idNode.canConvertToInt() || idNode.asInt() < 0 || idNode.asInt() > MAX_ID) {
                        throw new TernException(file + ": added token " + a.get("content") + " has a bad id " + idNode);
                    }
                    boolean sp = Json.bool(a, "special", false);
                    added.add(new AddedToken(a.get("id").asInt(), a.get("content").asText(), sp,
                            Json.bool(a, "normalized", !sp), Json.bool(a, "lstrip", false), Json.bool(a, "rstrip", false)));
                    maxId = Math.max(maxId, a.get("id").asInt());
                }
            }
            idToText = new String[maxId + 1];
            special = new boolean[maxId + 1];
            vocab.forEach((t, id) -> idToText[id] = t);
            tokenToId.putAll(vocab);
            for (AddedToken a : added) {
                idToText[a.id()] = a.content();
                special[a.id()] = a.special();
                tokenToId.put(a.content(), a.id());
            }

            String unk = Json.text(m, "unk_token", null);
            int unkId = unk == null ? -1 : vocab.getOrDefault(unk, -1);
            model = new BpeModel(vocab, merges, Json.bool(m, "byte_fallback", false), unkId,
                    Json.bool(m, "fuse_unk", false), Json.bool(m, "ignore_merges", false));

            normalizer = TextNormalizer.fromJson(root.get("normalizer"), file);
            preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"), file);
            decoder = TokenDecoder.fromJson(root.get("decoder"), file);
            for (AddedToken a : added) {
                // Like HF tokenizers: "normalized" tokens are matched in normalized text, in their normalized form.
                if (a.normalized() && normalizer != null) {
                    normalizedSplitter.add(normalizer.normalize(a.content()), a);
                } else {
                    rawSplitter.add(a.content(), a);
                }
            }
            resolveSpecialTokens();
            return new HfTokenizer(this);
        }

        private LongLongMap parseMerges(JsonNode mergesNode, Map<String, Integer> vocab) {
            if (Json.isNull(mergesNode) || !mergesNode.isArray()) {
                throw new TernException(file + ": model has no merges array");
            }
            LongLongMap merges = new LongLongMap(mergesNode.size());
            int rank = 0;
            for (JsonNode mn : mergesNode) {
                String a;
                String b;
                if (mn.isTextual()) {
                    String s = mn.asText();
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) {
                        throw new TernException(file + ": merge \"" + s + "\" is not of the form \"a b\"");
                    }
                    a = s.substring(0, sp);
                    b = s.substring(sp + 1);
                } else if (mn.isArray() && mn.size() == 2) {
                    a = mn.get(0).asText();
                    b = mn.get(1).asText();
                } else {
                    throw new TernException(file + ": merge " + mn + " is neither \"a b\" nor [a, b]");
                }
                Integer ia = vocab.get(a);
                Integer ib = vocab.get(b);
                Integer merged = vocab.get(a + b);
                // A merge whose parts or result are missing from the vocab can never produce a valid token.
                if (ia != null && ib != null && merged != null) {
                    merges.putIfAbsent(MergeEngine.pairKey(ia, ib), MergeEngine.pairValue(rank, merged));
                }
                rank++;
            }
            return merges;
        }

        private int idOf(String token) {
            return token == null ? -1 : tokenToId.getOrDefault(token, -1);
        }

        private String configToken(String field) {
            if (config == null || Json.isNull(config.get(field))) {
                return null;
            }
            JsonNode n = config.get(field);
            return n.isObject() ? Json.text(n, "content", null) : n.asText();
        }

        private void resolveSpecialTokens() {
            int[][] template = parsePostProcessor(root.get("post_processor"));
            int[] tPrefix = template == null ? new int[0] : template[0];
            int[] tSuffix = template == null ? new int[0] : template[1];
            // encode() emits these ids as they are; one outside the table would index past the model's embedding.
            for (int[] ids : new int[][] {tPrefix, tSuffix}) {
                for (int id : ids) {
                    if (id < 0 || id >= idToText.length) {
                        throw new TernException(file + ": post_processor adds token id " + id
                                + ", outside the vocabulary (size " + idToText.length + ")");
                    }
                }
            }

            String bosText = configToken("bos_token");
            bosId = idOf(bosText);
            if (bosText != null && bosId < 0) {
                throw new TernException(configFile + ": bos_token " + bosText + " is not in the vocabulary");
            }
            if (bosId < 0 && tPrefix.length > 0) {
                bosId = tPrefix[0];
            }
            if (bosId < 0) {
                for (String guess : List.of("<s>", "<|begin_of_text|>", "<bos>")) {
                    if (idOf(guess) >= 0) {
                        bosId = idOf(guess);
                        break;
                    }
                }
            }
            Set<Integer> eos = new LinkedHashSet<>();
            String eosText = configToken("eos_token");
            if (eosText != null) {
                if (idOf(eosText) < 0) {
                    throw new TernException(configFile + ": eos_token " + eosText + " is not in the vocabulary");
                }
                eos.add(idOf(eosText));
            } else {
                for (String guess : List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|eot_id|>", "<|im_end|>")) {
                    if (idOf(guess) >= 0) {
                        eos.add(idOf(guess));
                    }
                }
            }
            eosIds = Collections.unmodifiableSet(eos);

            prefixIds = tPrefix;
            suffixIds = tSuffix;
            // transformers' LlamaTokenizerFast rebuilds the template from these flags, so they win over the file.
            if (config != null && !Json.isNull(config.get("add_bos_token"))) {
                boolean addBos = config.get("add_bos_token").asBoolean();
                prefixIds = !addBos ? new int[0] : tPrefix.length > 0 ? tPrefix : bosId >= 0 ? new int[] {bosId} : new int[0];
            }
            if (config != null && !Json.isNull(config.get("add_eos_token"))) {
                boolean addEos = config.get("add_eos_token").asBoolean();
                int eosId = idOf(eosText);
                suffixIds = !addEos ? new int[0] : tSuffix.length > 0 ? tSuffix : eosId >= 0 ? new int[] {eosId} : new int[0];
            }
            cleanUpSpaces = config != null && Json.bool(config, "clean_up_tokenization_spaces", false);
        }

        /** {prefix ids, suffix ids} around the single sequence, or null if the post-processor adds nothing. */
        private int[][] parsePostProcessor(JsonNode node) {
            if (Json.isNull(node)) {
                return null;
            }
            String type = Json.type(node, "post_processor", file);
            switch (type) {
                case "ByteLevel":
                    return null;
                case "Sequence": {
                    int[][] result = null;
                    for (JsonNode child : node.path("processors")) {
                        int[][] r = parsePostProcessor(child);
                        if (r != null) {
                            result = r;
                        }
                    }
                    return result;
                }
                case "TemplateProcessing": {
                    IntList prefix = new IntList(2);
                    IntList suffix = new IntList(2);
                    boolean seenSequence = false;
                    for (JsonNode item : node.path("single")) {
                        if (item.has("Sequence")) {
                            seenSequence = true;
                        } else if (item.has("SpecialToken")) {
                            String id = Json.text(item.get("SpecialToken"), "id", "");
                            int[] ids = specialTokenIds(node.path("special_tokens").path(id), id);
                            (seenSequence ? suffix : prefix).addAll(ids);
                        } else {
                            throw new TernException(file + ": unsupported TemplateProcessing item " + item);
                        }
                    }
                    return new int[][] {prefix.toArray(), suffix.toArray()};
                }
                case "RobertaProcessing":
                case "BertProcessing": {
                    int cls = node.path("cls").path(1).asInt(-1);
                    int sep = node.path("sep").path(1).asInt(-1);
                    if (cls < 0 || sep < 0) {
                        throw new TernException(file + ": " + type + " without cls/sep ids");
                    }
                    return new int[][] {{cls}, {sep}};
                }
                default:
                    throw new TernException(file + ": unsupported post_processor " + type);
            }
        }

        private int[] specialTokenIds(JsonNode entry, String name) {
            if (entry.isObject() && entry.path("ids").isArray()) {
                int[] ids = new int[entry.get("ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = entry.get("ids").get(i).asInt();
                }
                return ids;
            }
            int id = idOf(name);
            if (id < 0) {
                throw new TernException(file + ": post_processor special token " + name + " is not in the vocabulary");
            }
            return new int[] {id};
        }
    }

    /** Ids encode(text, true) puts before the text (normally just BOS). */
    int[] prefixIds() {
        return prefixIds.clone();
    }

    /** Ids encode(text, true) puts after the text. */
    int[] suffixIds() {
        return suffixIds.clone();
    }

    @Override
    public String toString() {
        return "HfTokenizer[vocab=" + idToText.length + ", bos=" + bosId + ", eos=" + eosIds + ", prefix="
                + Arrays.toString(prefixIds) + "]";
    }
}
