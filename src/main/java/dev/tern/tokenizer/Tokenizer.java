package dev.tern.tokenizer;

import java.util.Set;

/** Text to token ids and back, for one model's vocabulary. Implementations are immutable and thread-safe. */
public interface Tokenizer {

    /**
     * Encodes text. With {@code addBos} the special tokens the tokenizer's configuration prescribes are added
     * (normally just BOS at the front); without it the text's own tokens only.
     */
    int[] encode(String text, boolean addBos);

    /** Decodes ids to text, skipping special tokens (BOS, EOS, padding, ...). */
    String decode(int[] ids);

    /**
     * A fresh incremental decoder: feeding it every id of a sequence (prompt included) yields, concatenated,
     * exactly {@code decode(ids)}; bytes of a character split over several tokens are held back until complete.
     */
    StreamDecoder streamDecoder();

    /** The BOS id, or -1 when the tokenizer has none. */
    int bosId();

    /** Ids that end generation (the configured EOS and its aliases). */
    Set<Integer> eosIds();

    default boolean isEos(int id) {
        return eosIds().contains(id);
    }

    /** Number of ids (largest id + 1); a model's embedding table may be larger. */
    int vocabSize();

    /** The raw vocabulary string of a token (e.g. "▁the", "Ġthe", "&lt;0x0A&gt;"), for debugging and tests. */
    String tokenText(int id);

    /** Whether decode() skips this id. */
    boolean isSpecial(int id);

    /** Stateful, single-threaded incremental decoder obtained from {@link Tokenizer#streamDecoder()}. */
    interface StreamDecoder {
        /** Text that became final with this id; may be empty while a character is incomplete. */
        String next(int id);

        /** Whatever is still held back (an unfinished character decodes to U+FFFD, as decode() would). */
        String flush();
    }
}
