package dev.tern.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF tokenizer metadata built from HF / llama2.c tokenizers must tokenize exactly like them under llama.cpp's rules. */
class GgufVocabTest {
    static final Path STORY = Path.of("..", "shared", "data", "tinystories", "valid-snippet.txt");
    static final Path WIKI = Path.of("..", "shared", "data", "wikitext2", "test.txt");
    static final Path SP = GoldenTest.RES.resolve("sp-bytefallback-tokenizer.json");
    static final Path SP_CFG = GoldenTest.RES.resolve("sp-bytefallback-tokenizer_config.json");
    static final Path BL = GoldenTest.RES.resolve("bytelevel-tokenizer.json");
    static final Path BL_CFG = GoldenTest.RES.resolve("bytelevel-tokenizer_config.json");

    /** Spaces at the edges and in runs, newlines, the empty string, characters outside every vocabulary. */
    static final List<String> HOSTILE = List.of("", " ", "  ", "   ", "\n", "\n\n", " \n ", "a", " leading", "   three leading",
            "trailing ", "trailing   ", "multiple    inner   spaces", "line one\nline two\n\nline four\n", "\ttab\tand\r\nCRLF",
            "héllo wörld — naïve café", "日本語のテキスト", "emoji 🎉🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "@-@ 1 @,@ 000 $ 5 %", "\u0000\u0001 control",
            "combining e\u0301 and Å", "once upon a time ▁ a literal meta space", "the the the hello world, and.",
            "  the  hello  ", "ééé  éé", "Lily's mom said, \"Don't go!\"\n\nTim ran.");

    static Tokenizer tinyGguf(int vocabSize) {
        return GgufVocab.fromHfTokenizer(GoldenTest.TINY.resolve("tokenizer.json"),
                GoldenTest.TINY.resolve("tokenizer_config.json"), vocabSize).tokenizer();
    }

    static List<String> lines(Path file, int maxChars) throws IOException {
        String text = Files.readString(file);
        return Arrays.asList(text.substring(0, Math.min(text.length(), maxChars)).split("\n"));
    }

    /** Texts whose encodings differ; each failure is printed so a regression shows where. */
    static int mismatches(Tokenizer expected, Tokenizer actual, List<String> texts) {
        return mismatches(expected, actual, texts, new boolean[] {true, false});
    }

    static int mismatches(Tokenizer expected, Tokenizer actual, List<String> texts, boolean[] withBos) {
        int bad = 0;
        for (String t : texts) {
            for (boolean bos : withBos) {
                int[] e = expected.encode(t, bos);
                int[] a = actual.encode(t, bos);
                if (!Arrays.equals(e, a)) {
                    if (bad++ < 3) {
                        System.out.println("mismatch on [" + t + "] bos=" + bos + ": " + Arrays.toString(e) + " vs " + Arrays.toString(a));
                    }
                }
            }
        }
        return bad;
    }

    /** decode(encode(x)) == x, for every x the reference tokenizer itself round-trips; returns how many it round-trips. */
    static int assertRoundTrips(Tokenizer reference, Tokenizer gguf, List<String> texts) {
        int n = 0;
        for (String t : texts) {
            if (reference.decode(reference.encode(t, true)).equals(t)) {
                assertEquals(t, gguf.decode(gguf.encode(t, true)), "round trip with BOS");
                assertEquals(t, gguf.decode(gguf.encode(t, false)), "round trip without BOS");
                assertEquals(t, streamed(gguf, gguf.encode(t, true)), "streamed round trip");
                n++;
            }
        }
        return n;
    }

    static String streamed(Tokenizer tok, int[] ids) {
        StringBuilder sb = new StringBuilder();
        Tokenizer.StreamDecoder sd = tok.streamDecoder();
        for (int id : ids) {
            sb.append(sd.next(id));
        }
        return sb.append(sd.flush()).toString();
    }

    /** Random concatenations of (parts of) vocabulary pieces, with ▁ as space or dropped: where merge orders differ. */
    static List<String> fuzz(Tokenizer tok, int count, long seed) {
        Random rnd = new Random(seed);
        List<String> out = new ArrayList<>();
        while (out.size() < count) {
            StringBuilder sb = new StringBuilder();
            for (int k = 1 + rnd.nextInt(6); k > 0; k--) {
                int id = rnd.nextInt(tok.vocabSize());
                String piece = tok.tokenText(id);
                if (tok.isSpecial(id) || piece.contains("<|") || TokenDecoder.byteToken(piece) >= 0) {
                    continue;
                }
                piece = piece.replace("\u2581", rnd.nextBoolean() ? " " : "");
                if (rnd.nextInt(4) == 0 && piece.length() > 1) {
                    piece = piece.substring(rnd.nextInt(piece.length()));
                }
                sb.append(piece).append(rnd.nextInt(8) == 0 ? " " : "");
            }
            out.add(sb.toString());
        }
        return out;
    }

    // ---- SentencePiece-style BPE (tinystories-656k) -> "llama" ----

    @Test
    void tinyStoriesVocabularyIsLlamaWithMergeRankScores() {
        GgufVocab v = GgufVocab.fromHfTokenizer(GoldenTest.TINY.resolve("tokenizer.json"),
                GoldenTest.TINY.resolve("tokenizer_config.json"), 2048);
        assertEquals("llama", v.model());
        assertNull(v.pre());
        assertEquals(2048, v.tokens().size());
        assertTrue(v.merges().isEmpty());
        assertEquals(List.of(1, 2, 0, 0), List.of(v.bosId(), v.eosId(), v.unkId(), v.padId()));
        assertTrue(v.addBos() && !v.addEos() && v.addSpacePrefix());
        assertEquals(GgufVocab.UNKNOWN, v.tokenTypes()[0]);
        assertEquals(GgufVocab.CONTROL, v.tokenTypes()[1]);
        assertEquals(GgufVocab.NORMAL, v.tokenTypes()[v.tokens().indexOf("▁")]);
        // Merges 0 "e ▁" and 2 "t h": the tokens they produce score minus their rank; characters score below all merges.
        assertEquals(0f, v.scores()[v.tokens().indexOf("e▁")]);
        assertEquals(-2f, v.scores()[v.tokens().indexOf("th")]);
        assertEquals(-1968f, v.scores()[v.tokens().indexOf("a")]);
    }

    @Test
    void tinyStoriesMatchesHfOnTheValidationText() throws IOException {
        HfTokenizer hf = GoldenTest.tiny();
        Tokenizer gguf = tinyGguf(2048);
        String story = Files.readString(STORY);
        assertArrayEquals(hf.encode(story, true), gguf.encode(story, true), "whole file");
        List<String> lines = lines(STORY, Integer.MAX_VALUE);
        assertEquals(0, mismatches(hf, gguf, lines));
        int[] ids = hf.encode(story, true);
        // Not the story itself: the vocabulary has no byte tokens, so characters like "—" become <unk>.
        assertEquals(hf.decode(ids), gguf.decode(ids));
        assertEquals(hf.decode(ids), streamed(gguf, ids));
        int roundTrips = assertRoundTrips(hf, gguf, lines);
        System.out.println("tinystories valid: " + roundTrips + " of " + lines.size() + " lines round-trip through HF");
        assertTrue(roundTrips > 0);
    }

    @Test
    void tinyStoriesMatchesHfOnWikiText() throws IOException {
        HfTokenizer hf = GoldenTest.tiny();
        Tokenizer gguf = tinyGguf(2048);
        // WikiText is full of characters the 2048-token vocabulary lacks ("@", "(", "=") and has no byte tokens for,
        // so it also exercises unknown-token runs. 300 KB (a quarter) keeps the test at a few seconds.
        String wiki = Files.readString(WIKI).substring(0, 300_000);
        int[] ids = hf.encode(wiki, true);
        assertArrayEquals(ids, gguf.encode(wiki, true), "300 KB in one piece");
        assertEquals(hf.decode(ids), gguf.decode(ids));
        assertEquals(0, mismatches(hf, gguf, lines(WIKI, 300_000), new boolean[] {true}), "line by line");
    }

    @Test
    void tinyStoriesMatchesHfOnHostileAndFuzzedStrings() {
        HfTokenizer hf = GoldenTest.tiny();
        Tokenizer gguf = tinyGguf(2048);
        assertEquals(0, mismatches(hf, gguf, HOSTILE));
        assertTrue(assertRoundTrips(hf, gguf, HOSTILE) >= 8);
        assertArrayEquals(new int[] {1}, gguf.encode("", true));
        assertArrayEquals(new int[0], gguf.encode("", false));
        assertEquals(0, mismatches(hf, gguf, fuzz(hf, 20_000, 42)));
    }

    @Test
    void byteFallbackMatchesHf() {
        // The fixture has all 256 byte tokens and merges built to trip merge-order bugs ("h ell", "▁ hello", "▁▁ ▁▁").
        HfTokenizer hf = GoldenTest.spByteFallback();
        Tokenizer gguf = GgufVocab.fromHfTokenizer(SP, SP_CFG, hf.vocabSize()).tokenizer();
        List<String> texts = new ArrayList<>(HOSTILE);
        texts.addAll(fuzz(hf, 20_000, 7));
        // Its merges "h e", "l l", "h ell" make "hell" unreachable from "he"+"ll" in BPE; llama.cpp merges any pair
        // that forms a token, so no choice of scores reproduces that. Every difference must be of exactly that kind.
        int unexplained = 0;
        int differ = 0;
        for (String t : texts) {
            int[] e = hf.encode(t, true);
            if (!Arrays.equals(e, gguf.encode(t, true))) {
                differ++;
                if (!hasMergeablePair(hf, e)) {
                    unexplained++;
                    System.out.println("unexplained mismatch on [" + t + "]");
                }
            }
        }
        System.out.println("sp-bytefallback: " + differ + " of " + texts.size() + " texts differ, all where HF leaves a pair"
                + " that forms a token");
        assertEquals(0, unexplained);
        assertTrue(differ < texts.size() / 10, differ + " differences");
        assertEquals(0, mismatches(hf, gguf, texts.stream().filter(t -> !t.contains("hell")).toList()));
        assertTrue(assertRoundTrips(hf, gguf, HOSTILE) >= 20);
        int[] ids = gguf.encode("日", false);
        assertEquals(List.of("▁", "<0xE6>", "<0x97>", "<0xA5>"), Arrays.stream(ids).mapToObj(gguf::tokenText).toList());
        assertEquals("日", gguf.decode(ids));
        // A split character is held back by the stream decoder until its last byte arrives.
        Tokenizer.StreamDecoder sd = gguf.streamDecoder();
        assertEquals("", sd.next(ids[0]) + sd.next(ids[1]) + sd.next(ids[2]));
        assertEquals("日", sd.next(ids[3]));
    }

    /** Whether two adjacent ids concatenate to a vocabulary token (a merge BPE skipped but SentencePiece would take). */
    static boolean hasMergeablePair(Tokenizer tok, int[] ids) {
        java.util.Set<String> vocab = new java.util.HashSet<>();
        for (int id = 0; id < tok.vocabSize(); id++) {
            vocab.add(tok.tokenText(id));
        }
        for (int i = 0; i + 1 < ids.length; i++) {
            if (!tok.isSpecial(ids[i]) && vocab.contains(tok.tokenText(ids[i]) + tok.tokenText(ids[i + 1]))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void specialTokensInTextFollowLlamaCpp() {
        Tokenizer gguf = tinyGguf(2048);
        // llama.cpp cuts at special tokens before anything else and prefixes the text after each one with a space; HF
        // matches these "normalized" added tokens inside the normalized text instead, so the two differ here by design.
        int[] a = gguf.encode("a", false);
        int[] b = gguf.encode("b", false);
        int[] ab = gguf.encode("a<|end_story|>b", true);
        int[] expected = new int[1 + a.length + 1 + b.length];
        expected[0] = 1;
        System.arraycopy(a, 0, expected, 1, a.length);
        expected[1 + a.length] = 2;
        System.arraycopy(b, 0, expected, 2 + a.length, b.length);
        assertArrayEquals(expected, ab);
        assertEquals("a b", gguf.decode(ab), "the special is skipped; the prefix space after it stays, as in HF");
        assertTrue(gguf.isSpecial(0) && gguf.isSpecial(1) && gguf.isSpecial(2) && !gguf.isSpecial(80));
        assertEquals(1, gguf.bosId());
        assertEquals(java.util.Set.of(2), gguf.eosIds());
        assertEquals("<|start_story|>", gguf.tokenText(1));
    }

    @Test
    void paddingAddsUnusedTokensThatDecodeToNothing() {
        Tokenizer gguf = tinyGguf(2100);
        GgufVocab v = GgufVocab.fromHfTokenizer(GoldenTest.TINY.resolve("tokenizer.json"), null, 2100);
        assertEquals(2100, gguf.vocabSize());
        assertEquals("[PAD2048]", gguf.tokenText(2048));
        assertEquals("[PAD2099]", gguf.tokenText(2099));
        for (int id = 2048; id < 2100; id++) {
            assertEquals(GgufVocab.UNUSED, v.tokenTypes()[id]);
            assertTrue(gguf.isSpecial(id));
        }
        int[] hello = gguf.encode("hello there", true);
        int[] padded = new int[hello.length * 2];
        for (int i = 0; i < hello.length; i++) {
            padded[2 * i] = hello[i];
            padded[2 * i + 1] = 2048 + i;
        }
        assertEquals(gguf.decode(hello), gguf.decode(padded));
        assertEquals(gguf.decode(hello), streamed(gguf, padded));
        assertEquals("", gguf.decode(new int[] {2050, 2060}));
        // Text spelling a padding token still encodes as text.
        assertFalse(Arrays.stream(gguf.encode("[PAD2050]", false)).anyMatch(id -> id >= 2048));
        assertArrayEquals(GoldenTest.tiny().encode(STORY.toString(), true), gguf.encode(STORY.toString(), true));
        assertThrows(TernException.class, () -> gguf.decode(new int[] {2100}));

        TernException e = assertThrows(TernException.class, () -> tinyGguf(2000));
        assertTrue(e.getMessage().contains("2048 tokens, more than the model's vocab size 2000"), e.getMessage());
    }

    // ---- llama2.c tok512.bin -> "llama" ----

    @Test
    void llama2cVocabularyMatchesLlama2cTokenizer() throws IOException {
        Llama2cTokenizer ref = Llama2cTokenizerTest.tok();
        GgufVocab v = GgufVocab.fromLlama2c(Llama2cTokenizerTest.TOK, 512);
        assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>"), v.tokens().subList(0, 4));
        assertEquals("▁t", v.tokens().get(259));
        assertEquals(ref.score(300), v.scores()[300]);
        Tokenizer gguf = v.tokenizer();
        String story = Files.readString(STORY);
        assertArrayEquals(ref.encode(story, true), gguf.encode(story, true));
        assertEquals(0, mismatches(ref, gguf, lines(STORY, Integer.MAX_VALUE)));
        assertEquals(0, mismatches(ref, gguf, lines(WIKI, 100_000)));
        // A literal ▁ is a space to SentencePiece (and llama.cpp) but three bytes to llama2.c, which stores spaces.
        List<String> hostile = HOSTILE.stream().filter(s -> !s.contains("▁")).toList();
        assertEquals(0, mismatches(ref, gguf, hostile));
        assertEquals(0, mismatches(ref, gguf, fuzz(ref, 20_000, 3).stream().map(s -> s.replace("▁", "")).toList()));
        for (String s : hostile) {
            int[] ids = ref.encode(s, true);
            assertEquals(ref.decode(ids), gguf.decode(ids), "decode after BOS");
        }
        assertEquals(1, gguf.bosId());
        assertEquals(java.util.Set.of(2), gguf.eosIds());

        Tokenizer padded = GgufVocab.fromLlama2c(Llama2cTokenizerTest.TOK, 600).tokenizer();
        assertEquals(600, padded.vocabSize());
        assertEquals(gguf.encode(story, true).length, padded.encode(story, true).length);
        assertThrows(TernException.class, () -> GgufVocab.fromLlama2c(Llama2cTokenizerTest.TOK, 500));
    }

    // ---- byte-level BPE -> "gpt2" ----

    @Test
    void byteLevelVocabularyIsGpt2WithLlama3Pre() {
        GgufVocab v = GgufVocab.fromHfTokenizer(BL, BL_CFG, 700);
        assertEquals("gpt2", v.model());
        assertEquals("llama-bpe", v.pre());
        assertNull(v.scores());
        assertEquals(400, v.merges().size());
        assertEquals("h e", v.merges().get(0));
        assertEquals(GgufVocab.CONTROL, v.tokenTypes()[656]);
        assertEquals(List.of(656, 657), List.of(v.bosId(), v.eosId()));
        assertTrue(v.addBos() && !v.addEos() && !v.addSpacePrefix());
        assertEquals(GgufVocab.UNUSED, v.tokenTypes()[699]);
    }

    @Test
    void byteLevelMatchesHf() throws IOException {
        HfTokenizer hf = GoldenTest.byteLevel();
        Tokenizer gguf = GgufVocab.fromHfTokenizer(BL, BL_CFG, hf.vocabSize()).tokenizer();
        String story = Files.readString(STORY);
        assertArrayEquals(hf.encode(story, true), gguf.encode(story, true));
        List<String> texts = new ArrayList<>(lines(WIKI, 100_000));
        texts.addAll(HOSTILE);
        texts.add("<|begin_of_text|>special<|eot_id|> tokens<|end_of_text|>");
        // The HF tokenizer NFC-normalizes and llama.cpp does not: text that is not NFC is where they part.
        List<String> notNfc = texts.stream().filter(t -> !java.text.Normalizer.isNormalized(t, java.text.Normalizer.Form.NFC)).toList();
        assertEquals(List.of("combining e\u0301 and Å"), notNfc);
        assertEquals(2, mismatches(hf, gguf, texts));
        String nfc = java.text.Normalizer.normalize(notNfc.get(0), java.text.Normalizer.Form.NFC);
        assertArrayEquals(hf.encode(notNfc.get(0), true), gguf.encode(nfc, true));
        assertEquals(0, mismatches(hf, gguf, fuzz(hf, 5_000, 11)));
        for (String t : texts) {
            int[] ids = hf.encode(t, true);
            assertEquals(hf.decode(ids), gguf.decode(ids));
            assertEquals(hf.decode(ids), streamed(gguf, ids));
        }
        assertTrue(gguf.eosIds().contains(657));
        assertTrue(gguf.eosIds().contains(hf.encode("<|eot_id|>", false)[0]), "llama.cpp's end-of-generation names");
    }

    @Test
    void byteLevelPreNamesFollowTheRegex(@TempDir Path tmp) throws IOException {
        ObjectMapper om = new ObjectMapper();
        Path qwen = editByteLevel(tmp, om, r -> ((ObjectNode) r.at("/pre_tokenizer/pretokenizers/0/pattern"))
                .put("Regex", GgufPre.QWEN2));
        GgufVocab v = GgufVocab.fromHfTokenizer(qwen, BL_CFG, 700);
        assertEquals("qwen2", v.pre());
        HfTokenizer hf = HfTokenizer.load(qwen, BL_CFG);
        List<String> texts = new ArrayList<>(lines(WIKI, 50_000));
        texts.add("numbers 1234567 and 3.14159");
        assertEquals(0, mismatches(hf, v.tokenizer(), texts));

        Path smol = editByteLevel(tmp, om, r -> r.set("pre_tokenizer", om.readTree(
                "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\",\"individual_digits\":true},"
                        + "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}]}")));
        GgufVocab s = GgufVocab.fromHfTokenizer(smol, BL_CFG, 700);
        assertEquals("smollm", s.pre());
        assertEquals(0, mismatches(HfTokenizer.load(smol, BL_CFG), s.tokenizer(), texts));

        Path gpt2 = editByteLevel(tmp, om, r -> r.set("pre_tokenizer", om.readTree(
                "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}")));
        GgufVocab g = GgufVocab.fromHfTokenizer(gpt2, BL_CFG, 700);
        assertEquals("gpt-2", g.pre());
        assertEquals(0, mismatches(HfTokenizer.load(gpt2, BL_CFG), g.tokenizer(), texts));

        Path other = editByteLevel(tmp, om, r -> ((ObjectNode) r.at("/pre_tokenizer/pretokenizers/0/pattern"))
                .put("Regex", "\\s+|\\S+"));
        assertEquals("default", GgufVocab.fromHfTokenizer(other, BL_CFG, 700).pre());
    }

    private static Path editByteLevel(Path tmp, ObjectMapper om, Edit edit) throws IOException {
        ObjectNode root = (ObjectNode) om.readTree(BL.toFile());
        edit.accept(root);
        Path p = Files.createTempFile(tmp, "bl", ".json");
        om.writeValue(p.toFile(), root);
        return p;
    }

    interface Edit {
        void accept(ObjectNode root) throws IOException;
    }

    // ---- llama.cpp itself ----

    @Test
    void matchesLlamaCppOnItsOwnGgufs() throws IOException {
        // Ids llama.cpp's llama-cli printed for GGUFs carrying exactly these vocabularies (tools/gguf-tokenizer-golden).
        com.fasterxml.jackson.databind.JsonNode cases = new ObjectMapper()
                .readTree(GoldenTest.RES.resolve("golden-gguf-llamacpp.json").toFile()).get("cases");
        java.util.Map<String, Tokenizer> toks = java.util.Map.of(
                "sp", GgufVocab.fromHfTokenizer(SP, SP_CFG, 320).tokenizer(),
                "l2c", GgufVocab.fromLlama2c(Llama2cTokenizerTest.TOK, 512).tokenizer(),
                "bl", GgufVocab.fromHfTokenizer(BL, BL_CFG, 700).tokenizer());
        int checked = 0;
        for (var e : toks.entrySet()) {
            for (com.fasterxml.jackson.databind.JsonNode c : cases.get(e.getKey())) {
                String text = c.get("text").asText();
                assertArrayEquals(GoldenTest.ints(c.get("ids")), e.getValue().encode(text, true), e.getKey() + ": " + text);
                checked++;
            }
        }
        assertTrue(checked > 150, checked + " cases");
    }

    // ---- errors ----

    @Test
    void unsupportedTokenizerJsonKindsAreNamed(@TempDir Path tmp) throws IOException {
        ObjectMapper om = new ObjectMapper();
        assertConvertError(tmp, om, SP, r -> r.set("normalizer", om.readTree("{\"type\":\"Lowercase\"}")),
                "unsupported tokenizer kind for GGUF (normalizer Lowercase");
        assertConvertError(tmp, om, SP, r -> {
            r.putNull("normalizer");
            r.set("pre_tokenizer", om.readTree("{\"type\":\"WhitespaceSplit\"}"));
        }, "pre_tokenizer WhitespaceSplit");
        assertConvertError(tmp, om, BL, r -> ((ObjectNode) r.at("/pre_tokenizer/pretokenizers/1")).put("add_prefix_space", true),
                "ByteLevel pre_tokenizer with add_prefix_space");
        assertConvertError(tmp, om, BL, r -> r.set("normalizer", om.readTree("{\"type\":\"NFKC\"}")), "normalizer NFKC");
        assertConvertError(tmp, om, SP, r -> ((ObjectNode) r.get("model")).put("type", "Unigram"),
                "unsupported model type Unigram");
        assertConvertError(tmp, om, SP, r -> r.set("post_processor", om.readTree("{\"type\":\"TemplateProcessing\","
                + "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}},{\"SpecialToken\":{\"id\":\"</s>\"}},{\"Sequence\":{\"id\":\"A\"}}],"
                + "\"special_tokens\":{}}")), "GGUF can only express adding the BOS/EOS token");
    }

    private static void assertConvertError(Path tmp, ObjectMapper om, Path base, Edit edit, String expected)
            throws IOException {
        ObjectNode root = (ObjectNode) om.readTree(base.toFile());
        edit.accept(root);
        Path p = Files.createTempFile(tmp, "t", ".json");
        om.writeValue(p.toFile(), root);
        TernException e = assertThrows(TernException.class, () -> GgufVocab.fromHfTokenizer(p, null, 1000));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "multi-line message: " + e.getMessage());
    }

    @Test
    void inconsistentMetadataGivesOneLineErrors() {
        GgufVocab ok = GgufVocab.fromLlama2c(Llama2cTokenizerTest.TOK, 512);
        List<String> toks = ok.tokens();
        float[] sc = ok.scores();
        int[] ty = ok.tokenTypes();
        assertError(new GgufVocab("bert", null, toks, sc, ty, List.of(), 1, 2, 0, -1, true, false, true),
                "unsupported tokenizer.ggml.model \"bert\"");
        assertError(new GgufVocab("llama", null, toks, null, ty, List.of(), 1, 2, 0, -1, true, false, true),
                "tokenizer.ggml.scores has no entries for 512 tokens");
        assertError(new GgufVocab("llama", null, toks, Arrays.copyOf(sc, 10), ty, List.of(), 1, 2, 0, -1, true, false, true),
                "scores has 10 entries");
        assertError(new GgufVocab("llama", null, toks, sc, Arrays.copyOf(ty, 511), List.of(), 1, 2, 0, -1, true, false, true),
                "token_type has 511 entries for 512 tokens");
        assertError(new GgufVocab("llama", null, toks, sc, ty, List.of(), 512, 2, 0, -1, true, false, true),
                "bos_token_id 512 is outside the vocabulary (size 512)");
        assertError(new GgufVocab("llama", null, toks, sc, ty, List.of(), -1, 2, 0, -1, true, false, true),
                "add_bos_token is true but there is no bos_token_id");
        int[] badType = ty.clone();
        badType[7] = 9;
        assertError(new GgufVocab("llama", null, toks, sc, badType, List.of(), 1, 2, 0, -1, true, false, true),
                "token_type[7] is 9");
        int[] byteType = ty.clone();
        byteType[300] = GgufVocab.BYTE;
        assertError(new GgufVocab("llama", null, toks, sc, byteType, List.of(), 1, 2, 0, -1, true, false, true),
                "has type BYTE but is not of the form <0xXX>");
        assertError(new GgufVocab("gpt2", "llama-bpe", toks, null, ty, null, 1, 2, 0, -1, true, false, false),
                "tokenizer.ggml.merges is missing");
        assertError(new GgufVocab("gpt2", "tekken", toks, null, ty, List.of(), 1, 2, 0, -1, true, false, false),
                "unsupported tokenizer.ggml.pre \"tekken\"");
        assertError(new GgufVocab("gpt2", "gpt-2", toks, null, ty, List.of("nospace"), 1, 2, 0, -1, true, false, false),
                "merges[0] \"nospace\" is not of the form");
        assertEquals(ok, GgufVocab.fromLlama2c(Llama2cTokenizerTest.TOK, 512), "records compare by content");
    }

    private static void assertError(GgufVocab v, String expected) {
        TernException e = assertThrows(TernException.class, v::tokenizer);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "multi-line message: " + e.getMessage());
    }
}
