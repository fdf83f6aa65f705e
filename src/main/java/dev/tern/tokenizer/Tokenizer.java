package dev.tern.tokenizer;

/** Placeholder until the tokenizer package lands. */
public interface Tokenizer {
    int[] encode(String text, boolean addBos);

    String decode(int[] ids);

    String decodeStreaming(int previousId, int id);

    int bosId();

    boolean isEos(int id);

    int vocabSize();
}
