package dev.tern.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.TernException;

/** Small accessors that turn schema surprises in tokenizer files into one-line TernExceptions naming the file. */
final class Json {
    private Json() {}

    static boolean isNull(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }

    static String text(JsonNode parent, String field, String def) {
        JsonNode n = parent.get(field);
        if (isNull(n)) {
            return def;
        }
        return n.asText();
    }

    static boolean bool(JsonNode parent, String field, boolean def) {
        JsonNode n = parent.get(field);
        return isNull(n) ? def : n.asBoolean(def);
    }

    static String type(JsonNode node, String what, String file) {
        if (!node.isObject()) {
            throw new TernException(file + ": " + what + " is not an object");
        }
        JsonNode t = node.get("type");
        if (t == null || !t.isTextual()) {
            throw new TernException(file + ": " + what + " has no \"type\"");
        }
        return t.asText();
    }

    /** Longest replacement/prepend string accepted from a file: real ones are one character ("▁", " "). */
    static final int MAX_INSERT = 32;

    /**
     * A Sequence of rewriting steps from a hostile file could grow text geometrically (Replace "a" with "aaaa",
     * twenty times) and exhaust memory; real pipelines stay within a small factor (NFKD's worst case is 18).
     */
    static void checkGrowth(long inputChars, long outputChars, String what, String file) {
        if (outputChars > 64 * inputChars + 4096) {
            throw new TernException(file + ": " + what + " grows " + inputChars + " characters to " + outputChars
                    + " (more than 64-fold); refusing a tokenizer that inflates text");
        }
    }

    /** A replacement string from the file, refused when long enough to inflate text on its own. */
    static String insertText(JsonNode parent, String field, String def, String what, String file) {
        String s = text(parent, field, def);
        if (s != null && s.length() > MAX_INSERT) {
            throw new TernException(file + ": " + what + " \"" + field + "\" is " + s.length() + " characters long (at most "
                    + MAX_INSERT + " supported)");
        }
        return s;
    }

    /** A normalizer / pre-tokenizer / decoder pattern: {"String": s} (literal) or {"Regex": r}. */
    static java.util.regex.Pattern pattern(JsonNode node, String what, String file) {
        if (node != null && node.has("String")) {
            return java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(node.get("String").asText()));
        }
        if (node != null && node.has("Regex")) {
            String re = node.get("Regex").asText();
            try {
                // Oniguruma (used by HF tokenizers) gives \s, \d, \w their Unicode meaning; Java needs the flag.
                return java.util.regex.Pattern.compile(re, java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new TernException(file + ": " + what + " regex cannot be compiled: " + e.getDescription());
            }
        }
        throw new TernException(file + ": " + what + " has no String or Regex pattern");
    }
}
