package dev.tern.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.TernException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The tokenizer.json "pre_tokenizer" stage: splits a normalized section into words that BPE merges independently. */
interface PreTokenizer {
    /**
     * @param sectionIndex index of the section among the pieces the added tokens cut the input into; Metaspace's
     *     "first" prepend scheme only adds the prefix to section 0
     */
    void split(String text, int sectionIndex, List<String> out);

    /** GPT-2's word splitter, used by ByteLevel with use_regex. */
    Pattern GPT2_PATTERN = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    static PreTokenizer fromJson(JsonNode node, String file) {
        if (Json.isNull(node)) {
            return null;
        }
        String type = Json.type(node, "pre_tokenizer", file);
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                for (JsonNode child : node.path("pretokenizers")) {
                    PreTokenizer p = fromJson(child, file);
                    if (p != null) {
                        parts.add(p);
                    }
                }
                yield (text, section, out) -> {
                    List<String> current = List.of(text);
                    for (PreTokenizer p : parts) {
                        List<String> nextPieces = new ArrayList<>();
                        long chars = 0;
                        for (String piece : current) {
                            p.split(piece, section, nextPieces);
                        }
                        for (String piece : nextPieces) chars += piece.length();
                        Json.checkGrowth(text.length(), chars, "pre_tokenizer Sequence", file);
                        current = nextPieces;
                    }
                    out.addAll(current);
                };
            }
            case "Metaspace" -> metaspace(node, file);
            case "ByteLevel" -> {
                boolean addPrefixSpace = Json.bool(node, "add_prefix_space", true);
                boolean useRegex = Json.bool(node, "use_regex", true);
                yield (text, section, out) -> {
                    String t = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
                    if (useRegex) {
                        Matcher m = GPT2_PATTERN.matcher(t);
                        while (m.find()) {
                            if (m.end() > m.start()) {
                                out.add(ByteLevelMap.encode(m.group()));
                            }
                        }
                    } else if (!t.isEmpty()) {
                        out.add(ByteLevelMap.encode(t));
                    }
                };
            }
            case "Split" -> {
                Pattern p = Json.pattern(node.get("pattern"), "pre_tokenizer Split", file);
                String behavior = Json.text(node, "behavior", "Isolated");
                boolean invert = Json.bool(node, "invert", false);
                if (!List.of("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")
                        .contains(behavior)) {
                    throw new TernException(file + ": unsupported Split behavior " + behavior);
                }
                yield (text, section, out) -> splitByPattern(text, p, behavior, invert, out);
            }
            case "Digits" -> {
                // HF isolates runs of numeric characters, or each one with individual_digits (SmolLM).
                Pattern p = Pattern.compile(Json.bool(node, "individual_digits", false) ? "\\p{N}" : "\\p{N}+");
                yield (text, section, out) -> splitByPattern(text, p, "Isolated", false, out);
            }
            case "WhitespaceSplit" -> (text, section, out) -> {
                for (String w : text.split("\\s+")) {
                    if (!w.isEmpty()) {
                        out.add(w);
                    }
                }
            };
            default -> throw new TernException(file + ": unsupported pre_tokenizer " + type);
        };
    }

    private static PreTokenizer metaspace(JsonNode node, String file) {
        String replacement = Json.insertText(node, "replacement", "\u2581", "pre_tokenizer Metaspace", file);
        String scheme = Json.text(node, "prepend_scheme", null);
        if (scheme == null) {
            // Files older than prepend_scheme spell it as add_prefix_space.
            scheme = Json.bool(node, "add_prefix_space", true) ? "always" : "never";
        }
        String prepend = scheme;
        boolean split = Json.bool(node, "split", true);
        Pattern rep = Pattern.compile(Pattern.quote(replacement));
        return (text, section, out) -> {
            String t = text.replace(" ", replacement);
            if (!t.startsWith(replacement)
                    && (prepend.equals("always") || (prepend.equals("first") && section == 0))) {
                t = replacement + t;
            }
            if (split) {
                splitByPattern(t, rep, "MergedWithNext", false, out);
            } else if (!t.isEmpty()) {
                out.add(t);
            }
        };
    }

    /** HF's SplitDelimiterBehavior applied to the spans a pattern (or, inverted, its gaps) marks. */
    static void splitByPattern(String text, Pattern p, String behavior, boolean invert, List<String> out) {
        List<int[]> spans = new ArrayList<>(); // {start, end, isMatch}
        Matcher m = p.matcher(text);
        int prev = 0;
        while (m.find()) {
            if (m.start() > prev) {
                spans.add(new int[] {prev, m.start(), invert ? 1 : 0});
            }
            spans.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
            prev = m.end();
        }
        if (prev < text.length()) {
            spans.add(new int[] {prev, text.length(), invert ? 1 : 0});
        }
        List<int[]> pieces = new ArrayList<>();
        switch (behavior) {
            case "Removed" -> {
                for (int[] s : spans) {
                    if (s[2] == 0) {
                        pieces.add(s);
                    }
                }
            }
            case "Isolated" -> pieces.addAll(spans);
            case "MergedWithPrevious" -> {
                for (int[] s : spans) {
                    if (s[2] == 1 && !pieces.isEmpty() && pieces.getLast()[2] == 0) {
                        pieces.getLast()[1] = s[1];
                        pieces.getLast()[2] = 1;
                    } else {
                        pieces.add(s.clone());
                    }
                }
            }
            case "MergedWithNext" -> {
                int[] pending = null;
                for (int[] s : spans) {
                    if (s[2] == 1) {
                        if (pending != null) {
                            pieces.add(pending);
                        }
                        pending = s.clone();
                    } else if (pending != null) {
                        pending[1] = s[1];
                        pieces.add(pending);
                        pending = null;
                    } else {
                        pieces.add(s);
                    }
                }
                if (pending != null) {
                    pieces.add(pending);
                }
            }
            case "Contiguous" -> {
                for (int[] s : spans) {
                    if (s[2] == 1 && !pieces.isEmpty() && pieces.getLast()[2] == 1) {
                        pieces.getLast()[1] = s[1];
                    } else {
                        pieces.add(s.clone());
                    }
                }
            }
            default -> throw new IllegalStateException(behavior);
        }
        for (int[] s : pieces) {
            if (s[1] > s[0]) {
                out.add(text.substring(s[0], s[1]));
            }
        }
    }
}
