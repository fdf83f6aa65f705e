package dev.tern.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {
    static final Path WIKI = Path.of("..", "shared", "data", "wikitext2", "test.txt");

    @Test
    void realModelSpecialIds() {
        HfTokenizer t = GoldenTest.tiny();
        assertEquals(1, t.bosId());
        assertTrue(t.isEos(2));
        assertEquals(2048, t.vocabSize());
        assertEquals("▁the▁", t.tokenText(108));
        assertTrue(t.isSpecial(0) && t.isSpecial(1) && !t.isSpecial(3));
        Tokenizer viaDir = Tokenizers.load(GoldenTest.TINY);
        assertArrayEquals(t.encode("Once upon a time", true), viaDir.encode("Once upon a time", true));
    }

    @Test
    void wikiTextIsFast() throws IOException {
        String wiki = Files.readString(WIKI);
        HfTokenizer tiny = GoldenTest.tiny();
        long t0 = System.nanoTime();
        int[] ids = tiny.encode(wiki, true);
        long t1 = System.nanoTime();
        HfTokenizer bl = GoldenTest.byteLevel();
        int[] blIds = bl.encode(wiki, true);
        long t2 = System.nanoTime();
        System.out.printf("WikiText-2 test (%d chars): tinystories %d tokens in %d ms, byte-level %d tokens in %d ms%n",
                wiki.length(), ids.length, (t1 - t0) / 1_000_000, blIds.length, (t2 - t1) / 1_000_000);
        // Generous bounds: the machine is shared; the point is catching quadratic behaviour (minutes).
        assertTrue((t1 - t0) / 1e9 < 15, "tinystories encode too slow");
        assertTrue((t2 - t1) / 1e9 < 15, "byte-level encode too slow");
        assertTrue(ids.length > wiki.length() / 6 && ids.length < wiki.length(), "implausible token count " + ids.length);
        // Byte-level BPE is lossless (up to its NFC normalizer).
        assertEquals(Normalizer.normalize(wiki, Normalizer.Form.NFC), bl.decode(blIds));
        // The real model's vocabulary covers TinyStories text (minus the file's CRs, which encode as <unk>).
        String story = Files.readString(Path.of("..", "shared", "data", "tinystories", "valid-snippet.txt"))
                .replace("\r", "");
        String back = tiny.decode(tiny.encode(story, true));
        int at = 0;
        while (at < Math.min(back.length(), story.length()) && back.charAt(at) == story.charAt(at)) {
            at++;
        }
        assertEquals(story.length(), back.length(), "round trip differs at " + at + ": "
                + story.substring(Math.max(0, at - 20), Math.min(story.length(), at + 20)).replace("\n", "\\n"));
        assertEquals(story, back);
    }

    @Test
    void streamingMatchesDecodeOnRandomIds() {
        Random r = new Random(42);
        for (HfTokenizer t : List.of(GoldenTest.spByteFallback(), GoldenTest.byteLevel(), GoldenTest.tiny())) {
            for (int trial = 0; trial < 300; trial++) {
                int n = 1 + r.nextInt(30);
                int[] ids = new int[n];
                for (int i = 0; i < n; i++) {
                    // Bias towards byte tokens (3..258 in the SP vocab) to exercise incomplete characters.
                    ids[i] = r.nextInt(3) == 0 ? 3 + 0xC0 + r.nextInt(64) : r.nextInt(t.vocabSize());
                    if (r.nextInt(4) == 0) {
                        ids[i] = 3 + 0x80 + r.nextInt(64);
                    }
                }
                StringBuilder sb = new StringBuilder();
                Tokenizer.StreamDecoder sd = t.streamDecoder();
                for (int id : ids) {
                    sb.append(sd.next(id));
                }
                sb.append(sd.flush());
                assertEquals(t.decode(ids), sb.toString(), java.util.Arrays.toString(ids));
            }
        }
    }

    @Test
    void streamingEmitsCharactersAsSoonAsComplete() {
        HfTokenizer t = GoldenTest.spByteFallback();
        int[] ids = t.encode("hi 😀!", true);
        Tokenizer.StreamDecoder sd = t.streamDecoder();
        StringBuilder seen = new StringBuilder();
        for (int id : ids) {
            String piece = sd.next(id);
            assertTrue(!piece.contains("\uFFFD"), "emitted a partial character");
            seen.append(piece);
        }
        assertEquals("hi 😀!", seen.toString());
        assertEquals("", sd.flush());
    }

    /** Writes a copy of the SP test tokenizer with one section edited, and loads it. */
    static HfTokenizer loadEdited(Path tmp, Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = (ObjectNode) om.readTree(GoldenTest.RES.resolve("sp-bytefallback-tokenizer.json").toFile());
        edit.accept(root);
        Path p = tmp.resolve("tokenizer.json");
        om.writeValue(p.toFile(), root);
        return HfTokenizer.load(p, null);
    }

    @Test
    void metaspacePreTokenizerSplitsLikeHfTokenizers(@TempDir Path tmp) throws IOException {
        ObjectMapper om = new ObjectMapper();
        HfTokenizer split = loadEdited(tmp, root -> {
            root.putNull("normalizer");
            root.set("pre_tokenizer", om.createObjectNode().put("type", "Metaspace").put("replacement", "▁")
                    .put("prepend_scheme", "first").put("split", true));
        });
        HfTokenizer whole = loadEdited(tmp, root -> {
            root.putNull("normalizer");
            root.set("pre_tokenizer", om.createObjectNode().put("type", "Metaspace").put("replacement", "▁")
                    .put("prepend_scheme", "first").put("split", false));
        });
        // With split the merge "e ▁" cannot cross into the next word; without it, it does.
        int[] s = split.encode("e d", false);
        assertEquals("▁ e ▁ d", text(split, s));
        assertEquals("▁ e▁ d", text(whole, whole.encode("e d", false)));
        assertEquals("e d", split.decode(s));
        assertEquals("▁the ▁ ▁the", text(split, split.encode("the  the", false)));
        // "first": only the first section gets the prefix, not the text after a special token.
        assertEquals("▁the <s> t he", text(split, split.encode("the<s>the", false)));
    }

    private static String text(Tokenizer t, int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(sb.isEmpty() ? "" : " ").append(t.tokenText(id));
        }
        return sb.toString();
    }

    @Test
    void configFlagsDecideBosAndEos(@TempDir Path tmp) throws IOException {
        Path json = GoldenTest.RES.resolve("sp-bytefallback-tokenizer.json");
        Path cfg = tmp.resolve("tokenizer_config.json");
        Files.writeString(cfg, "{\"add_bos_token\": false, \"add_eos_token\": true, \"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}}");
        HfTokenizer t = HfTokenizer.load(json, cfg);
        int[] ids = t.encode("the", true);
        assertEquals(2, ids[ids.length - 1]);
        assertTrue(ids[0] != 1);
        assertArrayEquals(HfTokenizer.load(json, null).encode("the", true), new int[] {1, ids[0]});
    }

    @Test
    void badFilesGiveOneLineTernExceptions(@TempDir Path tmp) throws IOException {
        ObjectMapper om = new ObjectMapper();
        TernException e = assertThrows(TernException.class, () -> HfTokenizer.load(tmp.resolve("missing.json"), null));
        assertTrue(e.getMessage().contains("missing.json") && e.getMessage().contains("not found"), e.getMessage());

        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"model\": {\"type\": \"BPE\", ");
        e = assertThrows(TernException.class, () -> HfTokenizer.load(bad, null));
        assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains("malformed JSON"), e.getMessage());

        assertMessage(tmp, r -> r.set("pre_tokenizer", om.createObjectNode().put("type", "BertPreTokenizer")),
                "unsupported pre_tokenizer BertPreTokenizer");
        assertMessage(tmp, r -> r.set("normalizer", om.createObjectNode().put("type", "Precompiled")),
                "unsupported normalizer Precompiled");
        assertMessage(tmp, r -> r.set("decoder", om.createObjectNode().put("type", "CTC")), "unsupported decoder CTC");
        assertMessage(tmp, r -> ((ObjectNode) r.get("model")).put("type", "Unigram"), "unsupported model type Unigram");
        assertMessage(tmp, r -> r.remove("model"), "no \"model\" section");
        assertMessage(tmp, r -> ((ObjectNode) r.get("model")).remove("merges"), "model has no merges");
        assertMessage(tmp, r -> r.set("pre_tokenizer", om.createObjectNode().put("type", "Split")
                .<ObjectNode>set("pattern", om.createObjectNode().put("Regex", "(unclosed"))), "regex cannot be compiled");
        assertMessage(tmp, r -> r.set("post_processor", om.createObjectNode().put("type", "Weird")),
                "unsupported post_processor Weird");
        assertMessage(tmp, r -> r.set("added_tokens", om.createArrayNode().add(om.createObjectNode().put("x", 1))),
                "added token without id or content");

        Path cfg = tmp.resolve("cfg.json");
        Files.writeString(cfg, "{\"bos_token\": \"<nope>\"}");
        e = assertThrows(TernException.class,
                () -> HfTokenizer.load(GoldenTest.RES.resolve("sp-bytefallback-tokenizer.json"), cfg));
        assertTrue(e.getMessage().contains("bos_token <nope> is not in the vocabulary"), e.getMessage());

        e = assertThrows(TernException.class, () -> Tokenizers.load(tmp.resolve("model.gguf")));
        assertTrue(e.getMessage().contains("unsupported tokenizer file"), e.getMessage());
        assertThrows(TernException.class, () -> GoldenTest.tiny().decode(new int[] {5000}));
    }

    private static void assertMessage(Path tmp, Consumer<ObjectNode> edit, String expected) {
        TernException e = assertThrows(TernException.class, () -> loadEdited(tmp, edit));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("tokenizer.json"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "multi-line message: " + e.getMessage());
    }
}
