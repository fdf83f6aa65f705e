package dev.tern.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Exact ids and decoded text against goldens produced by tokenizers.js (tools/tokenizer-golden). */
class GoldenTest {
    static final Path RES = Path.of("src", "test", "resources", "tokenizer");
    static final Path TINY = Path.of("..", "shared", "models", "tinystories-656k");

    static HfTokenizer tiny() {
        return HfTokenizer.load(TINY.resolve("tokenizer.json"), TINY.resolve("tokenizer_config.json"));
    }

    static HfTokenizer byteLevel() {
        return HfTokenizer.load(RES.resolve("bytelevel-tokenizer.json"), RES.resolve("bytelevel-tokenizer_config.json"));
    }

    static HfTokenizer spByteFallback() {
        return HfTokenizer.load(RES.resolve("sp-bytefallback-tokenizer.json"),
                RES.resolve("sp-bytefallback-tokenizer_config.json"));
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        add(out, "tinystories-656k", tiny(), "golden-tinystories-656k.json");
        add(out, "bytelevel", byteLevel(), "golden-bytelevel.json");
        add(out, "sp-bytefallback", spByteFallback(), "golden-sp-bytefallback.json");
        return out.stream();
    }

    private static void add(List<Arguments> out, String name, Tokenizer tok, String file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(RES.resolve(file).toFile());
        int i = 0;
        for (JsonNode c : root.get("cases")) {
            String text = c.get("text").asText();
            String label = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            out.add(Arguments.of(name + "#" + i++ + " " + label.replace("\n", "\\n"), tok, c));
        }
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = arr.get(i).asInt();
        }
        return r;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(String label, Tokenizer tok, JsonNode c) {
        String text = c.get("text").asText();
        int[] ids = ints(c.get("ids"));
        assertArrayEquals(ids, tok.encode(text, true), "encode with BOS");
        assertArrayEquals(ints(c.get("ids_plain")), tok.encode(text, false), "encode without BOS");
        String decoded = c.get("decoded").asText();
        assertEquals(decoded, tok.decode(ids), "decode");

        StringBuilder streamed = new StringBuilder();
        Tokenizer.StreamDecoder sd = tok.streamDecoder();
        for (int id : ids) {
            streamed.append(sd.next(id));
        }
        streamed.append(sd.flush());
        assertEquals(decoded, streamed.toString(), "streamed decode");
    }
}
