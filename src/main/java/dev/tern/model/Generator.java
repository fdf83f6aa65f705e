package dev.tern.model;

import dev.tern.tokenizer.Tokenizer;
import java.util.function.Consumer;

/** Autoregressive generation: one prefill of the prompt, then one decode step per token, streaming decoded text. */
public final class Generator {
    /** Token counts and wall times of one generation. */
    public record Stats(int promptTokens, double prefillSeconds, int generatedTokens, double decodeSeconds) {
        public double prefillTokensPerSecond() {
            return promptTokens / Math.max(1e-9, prefillSeconds);
        }

        public double decodeTokensPerSecond() {
            return generatedTokens / Math.max(1e-9, decodeSeconds);
        }
    }

    private final LoadedModel m;

    public Generator(LoadedModel m) {
        this.m = m;
    }

    public Stats generate(String prompt, int maxTokens, Sampler sampler, Consumer<String> sink) {
        Tokenizer tok = m.tokenizer();
        int[] ids = tok.encode(prompt, true);
        if (ids.length == 0) ids = new int[] {tok.bosId()};
        int capacity = Math.min(m.config().maxPositions(), ids.length + maxTokens);
        if (ids.length >= m.config().maxPositions()) {
            throw new dev.tern.TernException("prompt has " + ids.length + " tokens; the model's context is " + m.config().maxPositions());
        }
        Transformer tf = new Transformer(m.model(), capacity);
        KvCache cache = tf.newCache(capacity);
        int vocab = m.config().vocabSize();
        long t0 = System.nanoTime();
        float[] h = tf.forward(ids, 0, ids.length, 0, cache);
        int hidden = m.config().hiddenSize();
        float[] last = new float[hidden];
        System.arraycopy(h, (ids.length - 1) * hidden, last, 0, hidden);
        float[] logits = tf.logits(last, 1);
        long t1 = System.nanoTime();
        Tokenizer.StreamDecoder dec = tok.streamDecoder();
        StringBuilder echo = new StringBuilder();
        for (int id : ids) echo.append(dec.next(id)); // the prompt is echoed, so the output reads as one text
        sink.accept(echo.toString());
        int pos = ids.length, generated = 0;
        int[] one = new int[1];
        while (generated < maxTokens) {
            int next = sampler.sample(logits, 0, vocab);
            if (tok.isEos(next) || next == tok.bosId()) break;
            sink.accept(dec.next(next));
            generated++;
            if (pos >= capacity || generated == maxTokens) break;
            one[0] = next;
            logits = tf.logits(tf.forward(one, 0, 1, pos, cache), 1);
            pos++;
        }
        sink.accept(dec.flush());
        long t2 = System.nanoTime();
        return new Stats(ids.length, (t1 - t0) / 1e9, generated, (t2 - t1) / 1e9);
    }
}
