package dev.tern.eval.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One task item: for each choice a context and the continuation scored after it (target delimiter included), the
 * choice texts whose lengths normalise acc_norm, and the index of the gold choice.
 */
public record Example(List<String> contexts, List<String> continuations, List<String> choices, int gold) {
    /** The lm-evaluation-harness target delimiter between context and continuation. */
    public static final String DELIMITER = " ";

    public Example {
        contexts = List.copyOf(contexts);
        continuations = List.copyOf(continuations);
        choices = List.copyOf(choices);
        if (contexts.size() != continuations.size() || choices.size() != contexts.size() || contexts.isEmpty()) {
            throw new IllegalArgumentException("contexts, continuations and choices must be non-empty and of one size");
        }
        if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("gold " + gold + " out of range");
    }

    /** Usual multiple choice: one context shared by all choices, each scored as " " + choice. */
    public static Example multipleChoice(String context, List<String> choices, int gold) {
        List<String> conts = new ArrayList<>(choices.size());
        for (String c : choices) conts.add(DELIMITER + c);
        return new Example(Collections.nCopies(choices.size(), context), conts, choices, gold);
    }

    /**
     * Partial scoring (WinoGrande): one context per choice, the same continuation after each. As in the harness the
     * "choices" are the contexts themselves (only acc is reported, so their lengths never matter).
     */
    public static Example partial(List<String> contexts, String continuation, int gold) {
        return new Example(contexts, Collections.nCopies(contexts.size(), DELIMITER + continuation), contexts, gold);
    }

    public int size() {
        return choices.size();
    }
}
