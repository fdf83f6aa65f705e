package dev.tern.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TernException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cTokenizerTest {
    static final Path DIR = Path.of("..", "shared", "models", "stories260k");
    static final Path TOK = DIR.resolve("tok512.bin");

    static Llama2cTokenizer tok() {
        return Llama2cTokenizer.load(TOK, 512);
    }

    /** A literal port of llama2.c's quadratic encode(), to check the heap-based merge picks the same pairs. */
    static int[] naiveEncode(Llama2cTokenizer t, String text) {
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < t.vocabSize(); i++) {
            pieces.add(new String(t.tokenText(i).getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        List<Integer> toks = new ArrayList<>();
        if (bytes.length > 0) {
            toks.add(pieces.indexOf(" "));
        }
        for (int i = 0; i < bytes.length; ) {
            int j = i + 1;
            while (j < bytes.length && j - i < 4 && (bytes[j] & 0xC0) == 0x80) {
                j++;
            }
            int id = pieces.indexOf(new String(bytes, i, j - i, StandardCharsets.ISO_8859_1));
            if (id >= 0) {
                toks.add(id);
            } else {
                for (int k = i; k < j; k++) {
                    toks.add((bytes[k] & 0xff) + 3);
                }
            }
            i = j;
        }
        while (true) {
            float best = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i + 1 < toks.size(); i++) {
                int id = pieces.indexOf(pieces.get(toks.get(i)) + pieces.get(toks.get(i + 1)));
                if (id != -1 && t.score(id) > best) {
                    best = t.score(id);
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx == -1) {
                break;
            }
            toks.set(bestIdx, bestId);
            toks.remove(bestIdx + 1);
        }
        return toks.stream().mapToInt(Integer::intValue).toArray();
    }

    static List<String> samples() throws IOException {
        List<String> s = new ArrayList<>(List.of("", "a", " ", "Once upon a time", "  two  spaces ", "Hello, World!\n",
                "café naïve 日本語 😀👍🏽", "Lily's mom said, \"Lily, let's go to the park.\"", "\t\r\n", "x\u00ffy"));
        s.addAll(Files.readAllLines(DIR.resolve("expected-greedy-200.txt")));
        String wiki = Files.readString(Path.of("..", "shared", "data", "wikitext2", "test.txt"));
        for (int i = 0; i < 10; i++) {
            s.add(wiki.substring(5000 + i * 997, 5000 + i * 997 + 300));
        }
        return s;
    }

    @Test
    void loadsRealFile() {
        Llama2cTokenizer t = tok();
        assertEquals(512, t.vocabSize());
        assertEquals(1, t.bosId());
        assertTrue(t.isEos(2));
        assertEquals("<0x41>", t.tokenText(3 + 'A'));
        assertEquals(" t", t.tokenText(259));
        assertEquals(Llama2cTokenizer.load(TOK).vocabSize(), 512);
    }

    @Test
    void encodesLikeLlama2c() throws IOException {
        Llama2cTokenizer t = tok();
        for (String s : samples()) {
            assertArrayEquals(naiveEncode(t, s), t.encode(s, false), s);
        }
        int[] ids = t.encode("Once upon a time", true);
        assertEquals(1, ids[0]);
        StringBuilder pieces = new StringBuilder();
        for (int i = 1; i < ids.length; i++) {
            pieces.append(t.tokenText(ids[i]));
        }
        // The dummy prefix space is merged into the first word, and merging actually happened.
        assertEquals(" Once upon a time", pieces.toString());
        assertTrue(ids.length < 10, Arrays.toString(ids));
        assertArrayEquals(new int[0], t.encode("", false));
        assertArrayEquals(new int[] {1}, t.encode("", true));
    }

    @Test
    void byteFallbackForUnknownCharacters() {
        Llama2cTokenizer t = tok();
        int[] ids = t.encode("日", false);
        byte[] utf8 = "日".getBytes(StandardCharsets.UTF_8);
        // " " then the three UTF-8 bytes as byte tokens (the 512-token vocab has no CJK pieces).
        assertArrayEquals(new int[] {t.encode(" ", false)[0], (utf8[0] & 0xff) + 3, (utf8[1] & 0xff) + 3,
                (utf8[2] & 0xff) + 3}, ids);
    }

    @Test
    void decodeRoundTripsAndStreams() throws IOException {
        Llama2cTokenizer t = tok();
        for (String s : samples()) {
            int[] ids = t.encode(s, true);
            assertEquals(s, t.decode(ids), s);
            StringBuilder streamed = new StringBuilder();
            Tokenizer.StreamDecoder sd = t.streamDecoder();
            for (int id : ids) {
                streamed.append(sd.next(id));
            }
            streamed.append(sd.flush());
            assertEquals(s, streamed.toString());
        }
        // Without BOS llama2.c keeps the dummy prefix space; EOS decodes to nothing.
        assertEquals(" Hi", t.decode(t.encode("Hi", false)));
        int[] withEos = Arrays.copyOf(t.encode("Hi", true), t.encode("Hi", true).length + 1);
        withEos[withEos.length - 1] = 2;
        assertEquals("Hi", t.decode(withEos));
    }

    @Test
    void streamHoldsBackIncompleteCharacters() {
        Llama2cTokenizer t = tok();
        int[] ids = t.encode("😀", true); // BOS, " ", then 4 byte tokens
        Tokenizer.StreamDecoder sd = t.streamDecoder();
        assertEquals("", sd.next(ids[0]));
        assertEquals("", sd.next(ids[1])); // the dummy prefix space right after BOS is dropped
        assertEquals("", sd.next(ids[2]));
        assertEquals("", sd.next(ids[3]));
        assertEquals("", sd.next(ids[4]));
        assertEquals("😀", sd.next(ids[5]));
        assertEquals("", sd.flush());
        Tokenizer.StreamDecoder cut = t.streamDecoder();
        cut.next(ids[2]);
        assertEquals("\uFFFD", cut.flush());
    }

    @Test
    void rejectsBadFiles(@TempDir Path tmp) throws IOException {
        TernException e = assertThrows(TernException.class, () -> Llama2cTokenizer.load(tmp.resolve("nope.bin"), 512));
        assertTrue(e.getMessage().contains("nope.bin") && e.getMessage().contains("not found"), e.getMessage());

        byte[] real = Files.readAllBytes(TOK);
        Path truncated = tmp.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(real, 3000));
        e = assertThrows(TernException.class, () -> Llama2cTokenizer.load(truncated, 512));
        assertTrue(e.getMessage().startsWith(truncated.toString()), e.getMessage());

        Path tooFew = tmp.resolve("few.bin");
        Files.write(tooFew, real);
        e = assertThrows(TernException.class, () -> Llama2cTokenizer.load(tooFew, 600));
        assertTrue(e.getMessage().contains("truncated at token 512"), e.getMessage());

        byte[] badMax = real.clone();
        badMax[3] = (byte) 0x80; // max_token_length negative
        Path bm = tmp.resolve("badmax.bin");
        Files.write(bm, badMax);
        e = assertThrows(TernException.class, () -> Llama2cTokenizer.load(bm, 512));
        assertTrue(e.getMessage().contains("max_token_length"), e.getMessage());

        byte[] badLen = real.clone();
        badLen[4 + 4 + 3] = 0x7f; // first token's length field: huge
        Path bl = tmp.resolve("badlen.bin");
        Files.write(bl, badLen);
        e = assertThrows(TernException.class, () -> Llama2cTokenizer.load(bl, 512));
        assertTrue(e.getMessage().contains("token 0 has length"), e.getMessage());

        Path empty = tmp.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertThrows(TernException.class, () -> Llama2cTokenizer.load(empty, 512));
        assertThrows(TernException.class, () -> tok().decode(new int[] {512}));
    }
}
