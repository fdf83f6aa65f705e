package dev.tern.eval.tasks;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Reads the task files of data/tasks and builds each item's prompt exactly as lm-evaluation-harness does for the
 * task (zero-shot, default templates). What the files already contain, checked against every line of them:
 * <ul>
 *   <li>ARC: {@code query} is "Question: {question}" — the harness adds "\nAnswer:".</li>
 *   <li>PIQA: {@code query} is "Question: {goal}\n" — the harness template is "Question: {goal}\nAnswer:".</li>
 *   <li>OpenBookQA: {@code query} is the bare question_stem, which is the harness's context.</li>
 *   <li>BoolQ: {@code query} is "Passage: {passage}\nQuestion: {question}?" — the harness template has no
 *       "Passage: " prefix and ends "?\nAnswer:"; choices are no/yes.</li>
 *   <li>WinoGrande: the two partial contexts (sentence up to the blank, option substituted) and the rest of the
 *       sentence, already stripped.</li>
 *   <li>HellaSwag: see {@link #hellaswagContext}.</li>
 * </ul>
 * A malformed line is a TernException naming the file and the line number.
 */
public final class TaskLoader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BRACKETED = Pattern.compile("\\[.*?\\]");

    private TaskLoader() {}

    /** The first {@code limit} items of a task's file (all when limit ≤ 0), as the harness's --limit does. */
    public static List<Example> load(Task task, Path file, int limit) {
        return task == Task.HELLASWAG ? loadHellaswag(file, limit) : loadJsonl(task, file, limit);
    }

    private static List<Example> loadJsonl(Task task, Path file, int limit) {
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null && (limit <= 0 || out.size() < limit)) {
                lineNo++;
                if (line.isBlank()) continue;
                try {
                    out.add(fromJson(task, JSON.readTree(line)));
                } catch (JacksonException e) {
                    throw malformed(file, lineNo, "not valid JSON (" + e.getOriginalMessage() + ")");
                } catch (IllegalArgumentException e) {
                    throw malformed(file, lineNo, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new TernException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Builds one item from a JSON line; IllegalArgumentException says what is wrong with it. */
    static Example fromJson(Task task, JsonNode o) {
        if (o == null || !o.isObject()) throw new IllegalArgumentException("expected a JSON object");
        if (task == Task.WINOGRANDE) {
            List<String> ctx = strings(o, "context_options");
            if (ctx.size() != 2) throw new IllegalArgumentException("\"context_options\" must hold 2 strings");
            return Example.partial(ctx, text(o, "continuation"), gold(o, 2));
        }
        String query = text(o, "query");
        List<String> choices = strings(o, "choices");
        if (choices.size() < 2) throw new IllegalArgumentException("\"choices\" must hold at least 2 strings");
        String context = switch (task) {
            case ARC_EASY, ARC_CHALLENGE, PIQA -> questionAnswer(query);
            case OPENBOOKQA -> query;
            case BOOLQ -> boolq(query);
            default -> throw new IllegalStateException(task.toString());
        };
        return Example.multipleChoice(context, choices, gold(o, choices.size()));
    }

    /** "Question: {q}\nAnswer:" from a query that is "Question: {q}", with or without PIQA's trailing newline. */
    static String questionAnswer(String query) {
        return query.endsWith("\n") ? query + "Answer:" : query + "\nAnswer:";
    }

    /** "{passage}\nQuestion: {question}?\nAnswer:" from "Passage: {passage}\nQuestion: {question}?". */
    static String boolq(String query) {
        if (!query.contains("\nQuestion: ")) throw new IllegalArgumentException("BoolQ query has no \"\\nQuestion: \"");
        String body = query.startsWith("Passage: ") ? query.substring("Passage: ".length()) : query;
        return body + "\nAnswer:";
    }

    private static List<Example> loadHellaswag(Path file, int limit) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TernException("cannot read " + file + ": " + e.getMessage(), e);
        }
        // A trailing blank line is harmless; anything else must come in whole groups of six.
        int n = lines.size();
        while (n > 0 && lines.get(n - 1).isBlank()) n--;
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n && (limit <= 0 || out.size() < limit); i += 6) {
            if (i + 6 > n) throw malformed(file, i + 1, "incomplete item (6 lines per item: context, gold index, 4 endings)");
            String ctx = lines.get(i);
            if (ctx.isBlank()) throw malformed(file, i + 1, "empty context");
            int gold;
            try {
                gold = Integer.parseInt(lines.get(i + 1).strip());
            } catch (NumberFormatException e) {
                throw malformed(file, i + 2, "gold index must be 0-3, got '" + lines.get(i + 1) + "'");
            }
            if (gold < 0 || gold > 3) throw malformed(file, i + 2, "gold index must be 0-3, got " + gold);
            List<String> endings = new ArrayList<>(4);
            for (int k = 0; k < 4; k++) {
                String e = lines.get(i + 2 + k);
                if (e.isBlank()) throw malformed(file, i + 3 + k, "empty ending");
                endings.add(preprocess(e));
            }
            out.add(Example.multipleChoice(hellaswagContext(ctx), endings, gold));
        }
        return out;
    }

    /**
     * The harness's HellaSwag query, preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), rebuilt
     * from the file's context line. That line already starts with "{activity_label}: " and already had the WikiHow
     * bracket tags processed (" [title]" became ". ", [header]/[step] removed), but ctx_b was not capitalised
     * ("...sitting on a roof. he"). ctx_b is empty for the WikiHow items, whose lines end with "."; for the
     * ActivityNet items it is the lower-case fragment after the last ". " (6799 + 3243 lines of the validation
     * file, all of one kind or the other). So: when the line does not end with ".", the fragment after its last
     * ". " (or after the label when there is none) gets Python's capitalize(); then the harness's preprocess is
     * applied once more, which also drops the few bracketed spans the file still has.
     */
    public static String hellaswagContext(String line) {
        String s = line.strip();
        if (!s.endsWith(".")) {
            int cut = s.lastIndexOf(". ");
            int from = cut >= 0 ? cut + 2 : (s.indexOf(": ") >= 0 ? s.indexOf(": ") + 2 : 0);
            s = s.substring(0, from) + capitalize(s.substring(from));
        }
        return preprocess(s);
    }

    /** Python's str.capitalize(): first character in title case, the rest in lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        int len = Character.charCount(first);
        return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(len).toLowerCase(Locale.ROOT);
    }

    /** The harness's HellaSwag text preprocess: strip, " [title]" to ". ", drop [bracketed] spans, halve double spaces. */
    public static String preprocess(String text) {
        String t = text.strip();
        t = t.replace(" [title]", ". ");
        t = BRACKETED.matcher(t).replaceAll("");
        return t.replace("  ", " ");
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("missing string field \"" + field + "\"");
        return v.asText();
    }

    private static List<String> strings(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isArray()) throw new IllegalArgumentException("missing array field \"" + field + "\"");
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            if (!e.isTextual()) throw new IllegalArgumentException("\"" + field + "\" must hold strings only");
            out.add(e.asText());
        }
        return out;
    }

    private static int gold(JsonNode o, int choices) {
        JsonNode v = o.get("gold");
        if (v == null || !v.canConvertToExactIntegral()) throw new IllegalArgumentException("missing integer field \"gold\"");
        int g = v.asInt();
        if (g < 0 || g >= choices) throw new IllegalArgumentException("gold " + g + " out of range for " + choices + " choices");
        return g;
    }

    private static TernException malformed(Path file, int line, String why) {
        return new TernException(file + ":" + line + ": malformed task data: " + why);
    }
}
