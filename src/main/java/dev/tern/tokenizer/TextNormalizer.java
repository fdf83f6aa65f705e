package dev.tern.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.TernException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The tokenizer.json "normalizer" stage. */
interface TextNormalizer {
    String normalize(String s);

    static TextNormalizer fromJson(JsonNode node, String file) {
        if (Json.isNull(node)) {
            return null;
        }
        String type = Json.type(node, "normalizer", file);
        return switch (type) {
            case "Sequence" -> {
                List<TextNormalizer> parts = new ArrayList<>();
                for (JsonNode child : node.path("normalizers")) {
                    TextNormalizer p = fromJson(child, file);
                    if (p != null) {
                        parts.add(p);
                    }
                }
                yield s -> {
                    long original = s.length();
                    for (TextNormalizer p : parts) {
                        s = p.normalize(s);
                        Json.checkGrowth(original, s.length(), "normalizer Sequence", file);
                    }
                    return s;
                };
            }
            case "Prepend" -> {
                String prefix = Json.insertText(node, "prepend", "", "normalizer Prepend", file);
                yield s -> s.isEmpty() ? s : prefix + s;
            }
            case "Replace" -> {
                Pattern p = Json.pattern(node.get("pattern"), "normalizer Replace", file);
                String content = Matcher.quoteReplacement(Json.insertText(node, "content", "", "normalizer Replace", file));
                yield s -> p.matcher(s).replaceAll(content);
            }
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            default -> throw new TernException(file + ": unsupported normalizer " + type);
        };
    }
}
