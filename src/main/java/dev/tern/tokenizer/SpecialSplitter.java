package dev.tern.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * llama.cpp's special-token partition: cuts text at every occurrence of the CONTROL, USER_DEFINED and UNKNOWN
 * tokens, longest token text first (llama.cpp with parse_special, which is how Tern's tokenizers treat added tokens).
 */
final class SpecialSplitter {
    /** A piece of the input: raw text (token -1) or one special token. */
    record Fragment(String text, int token) {}

    private final String[] texts;
    private final int[] ids;

    SpecialSplitter(List<String> tokens, int[] types) {
        List<Integer> chosen = new ArrayList<>();
        for (int id = 0; id < types.length; id++) {
            int t = types[id];
            boolean special = t == GgufVocab.CONTROL || t == GgufVocab.USER_DEFINED || t == GgufVocab.UNKNOWN;
            if (special && !tokens.get(id).isEmpty()) {
                chosen.add(id);
            }
        }
        // Longest first, as llama.cpp sorts its special-token cache; the stable sort keeps ids ascending within a length.
        chosen.sort(Comparator.comparingInt((Integer id) -> -tokens.get(id).length()));
        texts = new String[chosen.size()];
        ids = new int[chosen.size()];
        for (int i = 0; i < texts.length; i++) {
            ids[i] = chosen.get(i);
            texts[i] = tokens.get(ids[i]);
        }
    }

    List<Fragment> split(String text) {
        List<Fragment> frags = new ArrayList<>();
        if (text.isEmpty()) {
            return frags;
        }
        frags.add(new Fragment(text, -1));
        for (int s = 0; s < texts.length; s++) {
            String special = texts[s];
            if (!text.contains(special)) {
                continue;
            }
            List<Fragment> next = new ArrayList<>(frags.size() + 4);
            for (Fragment f : frags) {
                if (f.token >= 0) {
                    next.add(f);
                    continue;
                }
                int from = 0;
                for (int at = f.text.indexOf(special); at >= 0; at = f.text.indexOf(special, from)) {
                    if (at > from) {
                        next.add(new Fragment(f.text.substring(from, at), -1));
                    }
                    next.add(new Fragment(special, ids[s]));
                    from = at + special.length();
                }
                if (from < f.text.length()) {
                    next.add(from == 0 ? f : new Fragment(f.text.substring(from), -1));
                }
            }
            frags = next;
        }
        return frags;
    }
}
