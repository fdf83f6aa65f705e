package dev.tern.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.TernException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The tokenizer.json "decoder" stage: a chain that rewrites the list of token strings. */
interface TokenDecoder {
    List<String> decodeChain(List<String> tokens);

    static TokenDecoder fromJson(JsonNode node, String file) {
        if (Json.isNull(node)) {
            return null;
        }
        String type = Json.type(node, "decoder", file);
        return switch (type) {
            case "Sequence" -> {
                List<TokenDecoder> parts = new ArrayList<>();
                for (JsonNode child : node.path("decoders")) {
                    TokenDecoder d = fromJson(child, file);
                    if (d != null) {
                        parts.add(d);
                    }
                }
                yield tokens -> {
                    long original = chars(tokens);
                    for (TokenDecoder d : parts) {
                        tokens = d.decodeChain(tokens);
                        Json.checkGrowth(original, chars(tokens), "decoder Sequence", file);
                    }
                    return tokens;
                };
            }
            case "Replace" -> {
                Pattern p = Json.pattern(node.get("pattern"), "decoder Replace", file);
                String content = Matcher.quoteReplacement(Json.insertText(node, "content", "", "decoder Replace", file));
                yield tokens -> tokens.stream().map(t -> p.matcher(t).replaceAll(content)).toList();
            }
            case "ByteFallback" -> TokenDecoder::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Strip" -> {
                String content = Json.text(node, "content", " ");
                int start = node.path("start").asInt(0);
                int stop = node.path("stop").asInt(0);
                yield tokens -> tokens.stream().map(t -> strip(t, content, start, stop)).toList();
            }
            case "Metaspace" -> {
                String replacement = Json.text(node, "replacement", "\u2581");
                String scheme = Json.text(node, "prepend_scheme", null);
                boolean stripFirst = scheme != null ? !scheme.equals("never") : Json.bool(node, "add_prefix_space", true);
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        String t = tokens.get(i).replace(replacement, " ");
                        if (i == 0 && stripFirst && t.startsWith(" ")) {
                            t = t.substring(1);
                        }
                        out.add(t);
                    }
                    return out;
                };
            }
            case "ByteLevel" -> TokenDecoder::byteLevel;
            default -> throw new TernException(file + ": unsupported decoder " + type);
        };
    }

    private static long chars(List<String> tokens) {
        long n = 0;
        for (String t : tokens) n += t.length();
        return n;
    }

    private static String strip(String t, String content, int start, int stop) {
        // Counts are in characters of `content` (always one char in practice, " " or "▁").
        int from = 0;
        for (int i = 0; i < start && t.startsWith(content, from); i++) {
            from += content.length();
        }
        int to = t.length();
        for (int i = 0; i < stop && to - content.length() >= from && t.startsWith(content, to - content.length()); i++) {
            to -= content.length();
        }
        return t.substring(from, to);
    }

    /** Runs of byte tokens (&lt;0xAB&gt;) become text; invalid bytes become U+FFFD. */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteToken(t);
            if (b >= 0) {
                run.write(b);
                continue;
            }
            flushRun(run, out);
            out.add(t);
        }
        flushRun(run, out);
        return out;
    }

    private static void flushRun(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) {
            return;
        }
        // Lossy like a streaming UTF-8 decoder (HF's Rust decoder instead turns a whole invalid run into one U+FFFD
        // per byte). Local replacement keeps incremental decoding identical to one-shot decoding.
        out.add(run.toString(StandardCharsets.UTF_8));
        run.reset();
    }

    /** The byte of a "&lt;0xAB&gt;" token, else -1. */
    static int byteToken(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** Maps GPT-2 byte images back to bytes; a token with chars outside the map (an added token) keeps its UTF-8. */
    private static List<String> byteLevel(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            boolean mapped = true;
            for (int i = 0; i < t.length() && mapped; i++) {
                mapped = ByteLevelMap.byteOf(t.charAt(i)) >= 0;
            }
            if (mapped) {
                for (int i = 0; i < t.length(); i++) {
                    bytes.write(ByteLevelMap.byteOf(t.charAt(i)));
                }
            } else {
                bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
            }
        }
        return List.of(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
    }
}
