package dev.tern.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TernException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prompt construction on hand-checked items of the real task files, and errors for malformed ones. */
class TaskLoaderTest {
    static Path data(String file) {
        return Path.of("..", "shared", "data", "tasks", file);
    }

    static Example item(Task t, int index) {
        List<Example> all = TaskLoader.load(t, data(t.file()), index + 1);
        return all.get(index);
    }

    static void assertMultipleChoice(Example e, String context, int gold, String... choices) {
        assertEquals(Collections.nCopies(choices.length, context), e.contexts());
        assertEquals(List.of(choices), e.choices());
        for (int i = 0; i < choices.length; i++) assertEquals(" " + choices[i], e.continuations().get(i));
        assertEquals(gold, e.gold());
    }

    @Test
    void arcAddsAnswerLine() {
        assertMultipleChoice(item(Task.ARC_EASY, 1),
                "Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory system?\nAnswer:",
                1, "safety goggles", "breathing mask", "rubber gloves", "lead apron");
        assertMultipleChoice(item(Task.ARC_CHALLENGE, 0),
                "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most "
                        + "likely effect of this increase in rotation?\nAnswer:",
                2, "Planetary density will decrease.", "Planetary years will become longer.",
                "Planetary days will become shorter.", "Planetary gravity will become stronger.");
    }

    @Test
    void piqaKeepsItsNewlineAndAddsAnswer() {
        assertMultipleChoice(item(Task.PIQA, 1), "Question: dresser\nAnswer:", 1,
                "replace drawer with bobby pin", "finish, woodgrain with  bobby pin");
        Example e = item(Task.PIQA, 0);
        assertEquals("Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:", e.contexts().get(0));
        assertEquals(0, e.gold());
    }

    @Test
    void openbookqaIsTheBareStem() {
        assertMultipleChoice(item(Task.OPENBOOKQA, 1), "There is most likely going to be fog around:", 0,
                "a marsh", "a tundra", "the plains", "a desert");
    }

    @Test
    void boolqDropsPassagePrefixAndAddsAnswer() {
        // Item 6 of the file: non-ASCII passage text survives untouched.
        assertMultipleChoice(item(Task.BOOLQ, 5),
                "Barq's /\u02c8b\u0251\u02d0rks/ is an American soft drink. Its brand of root beer is notable for having "
                        + "caffeine. Barq's, created by Edward Barq and bottled since the turn of the 20th century, is owned by "
                        + "the Barq family but bottled by the Coca-Cola Company. It was known as Barq's Famous Olde Tyme Root "
                        + "Beer until 2012.\nQuestion: is barq's root beer a pepsi product?\nAnswer:",
                0, "no", "yes");
    }

    @Test
    void winograndeScoresTheRestAfterEachPartialContext() {
        Example e = item(Task.WINOGRANDE, 0);
        assertEquals(List.of("Sarah was a much better surgeon than Maria so Sarah",
                "Sarah was a much better surgeon than Maria so Maria"), e.contexts());
        assertEquals(List.of(" always got the easier cases.", " always got the easier cases."), e.continuations());
        assertEquals(1, e.gold());
    }

    @Test
    void hellaswagCapitalisesCtxB() {
        // ActivityNet item: ctx_b "he" becomes "He", as ctx_b.capitalize() does in the harness.
        assertMultipleChoice(item(Task.HELLASWAG, 0), "Roof shingle removal: A man is sitting on a roof. He", 3,
                "is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.",
                "starts pulling up roofing on a roof.");
        // Empty ctx_a: "Hand car wash: . a colorful intro..." — the fragment after ". " is ctx_b.
        assertEquals("Hand car wash: . A colorful intro with a lot of flashing words", item(Task.HELLASWAG, 200).contexts().get(0));
    }

    @Test
    void hellaswagWikiHowItemsKeepTheirTextButLoseBrackets() {
        Example e = item(Task.HELLASWAG, 3243); // first WikiHow item (line 19459): ends with "." so ctx_b is empty
        assertEquals("Personal Care and Style: How to become a fashion consultant. Obtain your high school diploma or ged. "
                + "This job requires a high school diploma or equivalent, so make sure to apply yourself and finish school. "
                + "If your high school offers these classes, take art, design, and sewing to familiarize yourself with "
                + "foundational concepts in fashion.", e.contexts().get(0));
        assertEquals(3, e.gold());
        assertEquals("Earn a bachelor's degree in a fashion-related field. Degrees for the fashion industry include art, "
                + "fashion merchandising, and marketing.", e.choices().get(3));
        // Line 21031 still has "[www.kiddio.org]"; the harness's preprocess drops it and the double space it leaves.
        String ctx = item(Task.HELLASWAG, 3505).contexts().get(0);
        assertTrue(ctx.contains("Visit a site like to find loads of creative activities"), ctx);
    }

    @Test
    void preprocessMatchesTheHarness() {
        assertEquals("Ties: How to tie a tie. Cross the ends.",
                TaskLoader.preprocess("  Ties: [header] How to tie a tie [title] Cross the ends. "));
        // The harness strips before removing tags, so tags at the ends leave spaces (a quirk kept on purpose).
        assertEquals(" How to tie a tie. ", TaskLoader.preprocess("[header] How to tie a tie [title]"));
        assertEquals("a b", TaskLoader.preprocess("a [x] b"));
        assertEquals("a  b", TaskLoader.preprocess("a [x]  b")); // one pass of "  " -> " ", as Python replace
        assertEquals("He and i", TaskLoader.capitalize("he and I"));
        assertEquals("\" power dribble", TaskLoader.capitalize("\" power dribble"));
    }

    @Test
    void limitTakesTheFirstItems() {
        assertEquals(3, TaskLoader.load(Task.HELLASWAG, data("hellaswag_val.txt"), 3).size());
        assertEquals(2, TaskLoader.load(Task.ARC_EASY, data("arc_easy.jsonl"), 2).size());
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(TaskLoaderTest.class.getResource("/tasks/" + name).toURI());
    }

    @Test
    void malformedLinesNameFileAndLine() throws Exception {
        TernException e = assertThrows(TernException.class, () -> TaskLoader.load(Task.ARC_EASY, resource("bad_json.jsonl"), 0));
        assertTrue(e.getMessage().contains("bad_json.jsonl:3:"), e.getMessage());
        e = assertThrows(TernException.class, () -> TaskLoader.load(Task.ARC_EASY, resource("bad_gold.jsonl"), 0));
        assertTrue(e.getMessage().contains("bad_gold.jsonl:2:") && e.getMessage().contains("gold 4 out of range"), e.getMessage());
        e = assertThrows(TernException.class, () -> TaskLoader.load(Task.WINOGRANDE, resource("bad_gold.jsonl"), 0));
        assertTrue(e.getMessage().contains("bad_gold.jsonl:1:") && e.getMessage().contains("context_options"), e.getMessage());
        e = assertThrows(TernException.class, () -> TaskLoader.load(Task.HELLASWAG, resource("bad_hellaswag.txt"), 0));
        assertTrue(e.getMessage().contains("bad_hellaswag.txt:8:") && e.getMessage().contains("gold index"), e.getMessage());
        e = assertThrows(TernException.class, () -> TaskLoader.load(Task.HELLASWAG, resource("short_hellaswag.txt"), 0));
        assertTrue(e.getMessage().contains("short_hellaswag.txt:7:") && e.getMessage().contains("incomplete"), e.getMessage());
    }
}
