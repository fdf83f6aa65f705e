package dev.tern.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.TernException;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** tokenizer.ggml.pre names: llama.cpp's pre-tokenizer regexes for each, and the name for a tokenizer.json. */
final class GgufPre {
    /** Llama-3's Split regex as tokenizer.json spells it. */
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's: Llama-3's with single digits. */
    static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** GPT-2's word splitter as llama.cpp has it (gaps are kept, so the final "\s+" alternative is not needed). */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    private static final Set<String> LLAMA3_NAMES = Set.of("llama3", "llama-v3", "llama-bpe", "dbrx", "smaug-bpe");
    private static final Set<String> SMOLLM_NAMES = Set.of("smollm", "starcoder", "refact", "command-r", "codeshell");
    private static final Set<String> GPT2_NAMES = Set.of("gpt-2", "mpt", "olmo", "jais");
    private static final Set<String> QWEN2_NAMES = Set.of("qwen2", "stablelm2");

    private GgufPre() {}

    static List<Pattern> regexes(String pre) {
        List<String> exprs;
        if (pre == null || pre.equals("default")) {
            exprs = List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
        } else if (LLAMA3_NAMES.contains(pre)) {
            exprs = List.of(LLAMA3);
        } else if (QWEN2_NAMES.contains(pre)) {
            exprs = List.of(QWEN2);
        } else if (SMOLLM_NAMES.contains(pre)) {
            exprs = List.of("\\p{N}", GPT2);
        } else if (GPT2_NAMES.contains(pre)) {
            exprs = List.of(GPT2);
        } else {
            throw new TernException("unsupported tokenizer.ggml.pre \"" + pre + "\" (supported: default, "
                    + String.join(", ", LLAMA3_NAMES) + ", " + String.join(", ", QWEN2_NAMES) + ", "
                    + String.join(", ", SMOLLM_NAMES) + ", " + String.join(", ", GPT2_NAMES) + ")");
        }
        // Unicode classes, as llama.cpp's and HF's regex engines give \s and \p{..} their Unicode meaning.
        return exprs.stream().map(e -> Pattern.compile(e, Pattern.UNICODE_CHARACTER_CLASS)).toList();
    }

    /** llama.cpp sets ignore_merges (a word that is a token is taken whole) for the Llama-3 family. */
    static boolean ignoresMerges(String pre) {
        return pre != null && LLAMA3_NAMES.contains(pre) && !pre.equals("dbrx") && !pre.equals("smaug-bpe");
    }

    /**
     * The pre name for a byte-level tokenizer.json pre_tokenizer, or "default" when none matches. The regex is compared
     * verbatim: llama.cpp's converter identifies tokenizers by hashing their output instead, which needs a Python stack.
     */
    static String fromJson(JsonNode pre, String file) {
        if (Json.isNull(pre)) {
            return "default";
        }
        String type = Json.type(pre, "pre_tokenizer", file);
        if (type.equals("ByteLevel")) {
            return Json.bool(pre, "use_regex", true) ? "gpt-2" : "default";
        }
        if (!type.equals("Sequence")) {
            return "default";
        }
        List<JsonNode> parts = new java.util.ArrayList<>();
        pre.path("pretokenizers").forEach(parts::add);
        if (parts.size() == 2 && "Split".equals(parts.get(0).path("type").asText())
                && "ByteLevel".equals(parts.get(1).path("type").asText())
                && !Json.bool(parts.get(1), "use_regex", true)) {
            String regex = parts.get(0).path("pattern").path("Regex").asText("");
            if (regex.equals(LLAMA3)) {
                return "llama-bpe";
            }
            if (regex.equals(QWEN2)) {
                return "qwen2";
            }
        }
        if (parts.size() == 2 && "Digits".equals(parts.get(0).path("type").asText())
                && Json.bool(parts.get(0), "individual_digits", false)
                && "ByteLevel".equals(parts.get(1).path("type").asText())
                && Json.bool(parts.get(1), "use_regex", true)) {
            return "smollm";
        }
        return "default";
    }
}
