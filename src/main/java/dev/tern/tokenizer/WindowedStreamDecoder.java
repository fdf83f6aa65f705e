package dev.tern.tokenizer;

import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * Incremental decoding by diffing decode() of a short window with and without the newest ids. Keeping one
 * already-emitted token as left context makes prefix-sensitive decoder steps (SentencePiece's "strip the first
 * space", Metaspace) give the same text as a whole-sequence decode; text ending in U+FFFD is held back because it
 * is usually a character whose remaining bytes are still to come.
 */
final class WindowedStreamDecoder implements Tokenizer.StreamDecoder {
    private final Function<int[], String> decode;
    private final IntPredicate skip;
    private final IntList ids = new IntList(64);
    private int prefix;
    private int read;

    WindowedStreamDecoder(Function<int[], String> decode, IntPredicate skip) {
        this.decode = decode;
        this.skip = skip;
    }

    @Override
    public String next(int id) {
        if (skip.test(id)) {
            return "";
        }
        ids.add(id);
        String prefixText = decode.apply(ids.slice(prefix, read));
        String newText = decode.apply(ids.slice(prefix, ids.size()));
        if (newText.length() > prefixText.length() && !newText.endsWith("\uFFFD")) {
            return advance(prefixText, newText);
        }
        return "";
    }

    @Override
    public String flush() {
        if (read == ids.size()) {
            return "";
        }
        String prefixText = decode.apply(ids.slice(prefix, read));
        String newText = decode.apply(ids.slice(prefix, ids.size()));
        return advance(prefixText, newText);
    }

    private String advance(String prefixText, String newText) {
        int common = 0;
        if (newText.startsWith(prefixText)) {
            common = prefixText.length();
        } else {
            while (common < prefixText.length() && common < newText.length()
                    && prefixText.charAt(common) == newText.charAt(common)) {
                common++;
            }
        }
        prefix = read;
        read = ids.size();
        if (prefix > 4096) {
            ids.dropFirst(prefix);
            read -= prefix;
            prefix = 0;
        }
        return newText.substring(common);
    }
}
