package dev.tern.eval.tasks;

import dev.tern.TernException;
import dev.tern.model.KvCache;
import dev.tern.model.LoadedModel;
import dev.tern.model.Ops;
import dev.tern.model.Transformer;
import dev.tern.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Log-likelihoods from a loaded model (float or Tern checkpoint alike), tokenised and truncated as
 * lm-evaluation-harness does, with the context run once per item: the context is prefilled into a KV cache and
 * every continuation is then run from the position after it, overwriting the previous continuation's positions.
 * One thread at a time, like the model's linear layers.
 */
public final class ModelLogLikelihood implements LogLikelihood {
    /** Continuation rows whose logits are made at once, so a 150k vocabulary never needs [tokens][vocab] at once. */
    private static final int LOGIT_CHUNK = 64;

    private final Transformer tf;
    private final Tokenizer tok;
    private final int maxLength, vocab, hidden;
    private KvCache cache;
    private long overlong;

    /** A context and continuation as token ids: the sequence scored is context ++ continuation. */
    public record Pair(int[] context, int[] continuation) {}

    public ModelLogLikelihood(LoadedModel m) {
        this(m, m.config().maxPositions());
    }

    /** maxLength: the longest input the model sees; longer sequences lose context tokens from the left. */
    public ModelLogLikelihood(LoadedModel m, int maxLength) {
        if (maxLength < 2 || maxLength > m.config().maxPositions()) {
            throw new TernException("max length must be in [2, " + m.config().maxPositions() + "], got " + maxLength);
        }
        this.tf = new Transformer(m.model(), maxLength);
        this.tok = m.tokenizer();
        this.maxLength = maxLength;
        this.vocab = m.config().vocabSize();
        this.hidden = m.config().hiddenSize();
    }

    public int maxLength() {
        return maxLength;
    }

    /**
     * The harness's token split of one request: whitespace at the end of the context moves to the front of the
     * continuation (so " Paris" is tokenised as a word, not as a stray space), whole = encode(context +
     * continuation) and the continuation tokens are whole[len(encode(context)):]. BOS is added as the model's
     * tokenizer configuration prescribes.
     */
    public Pair encode(String context, String continuation) {
        int spaces = context.length() - context.stripTrailing().length();
        if (spaces > 0) {
            continuation = context.substring(context.length() - spaces) + continuation;
            context = context.substring(0, context.length() - spaces);
        }
        int[] ctx = tok.encode(context, true);
        if (ctx.length == 0) {
            // No BOS and no context: the harness then conditions on its prefix token (EOS) alone.
            int prefix = tok.bosId() >= 0 ? tok.bosId() : tok.eosIds().stream().mapToInt(Integer::intValue).min()
                    .orElseThrow(() -> new TernException("empty context and the tokenizer has neither BOS nor EOS"));
            return new Pair(new int[] {prefix}, tok.encode(continuation, false));
        }
        int[] whole = tok.encode(context + continuation, true);
        int[] cont = whole.length > ctx.length ? Arrays.copyOfRange(whole, ctx.length, whole.length) : new int[0];
        return new Pair(ctx, cont);
    }

    @Override
    public double[] score(String context, List<String> continuations) {
        List<Pair> pairs = new ArrayList<>(continuations.size());
        for (String c : continuations) pairs.add(encode(context, c));
        return score(pairs);
    }

    /**
     * Scores pairs that share one context token sequence. The harness feeds the last maxLength + 1 tokens of
     * context ++ continuation minus the final one, so a long item drops len(ctx) + len(cont) − 1 − maxLength tokens
     * from the context's left; continuations that drop the same number share one prefill. A continuation longer
     * than maxLength (the harness fails on those) gets the same window, which then holds continuation tokens only:
     * its last maxLength tokens are scored, see {@link #overlong()}.
     */
    public double[] score(List<Pair> pairs) {
        double[] out = new double[pairs.size()];
        int[] ctx = pairs.getFirst().context();
        Map<Integer, List<Integer>> byStart = new TreeMap<>();
        for (int i = 0; i < pairs.size(); i++) {
            Pair p = pairs.get(i);
            if (!Arrays.equals(p.context(), ctx)) throw new IllegalArgumentException("pairs must share their context");
            if (p.continuation().length > maxLength) {
                out[i] = tail(p.continuation());
                continue;
            }
            int start = Math.max(0, ctx.length + p.continuation().length - 1 - maxLength);
            byStart.computeIfAbsent(start, k -> new ArrayList<>()).add(i);
        }
        for (Map.Entry<Integer, List<Integer>> g : byStart.entrySet()) {
            int start = g.getKey(), nctx = ctx.length - start;
            int longest = 0;
            for (int i : g.getValue()) longest = Math.max(longest, pairs.get(i).continuation().length);
            KvCache cache = cache(nctx + Math.max(0, longest - 1));
            float[] h = tf.forward(ctx, start, nctx, 0, cache);
            // The last context row predicts every continuation's first token.
            float[] first = tf.logits(Arrays.copyOfRange(h, (nctx - 1) * hidden, nctx * hidden), 1);
            for (int i : g.getValue()) out[i] = continuation(pairs.get(i).continuation(), first, nctx, cache);
        }
        return out;
    }

    /** How many continuations so far were longer than maxLength and had only their last maxLength tokens scored. */
    public long overlong() {
        return overlong;
    }

    /** Log-likelihood of the last maxLength tokens of cont, each given the window of tokens before it. */
    private double tail(int[] cont) {
        overlong++;
        int from = cont.length - maxLength - 1;
        float[] first = tf.logits(tf.forward(cont, from, 1, 0, cache(maxLength)), 1);
        return continuation(Arrays.copyOfRange(cont, from + 1, cont.length), first, 1, cache(maxLength));
    }

    /** Sum of log P(cont[t]) with the context already in positions [0, nctx) of the cache. */
    private double continuation(int[] cont, float[] firstLogits, int nctx, KvCache cache) {
        if (cont.length == 0) return 0;
        double sum = Ops.logProb(firstLogits, 0, vocab, cont[0]);
        int n = cont.length - 1; // the last token is predicted, never fed
        if (n == 0) return sum;
        float[] h = tf.forward(cont, 0, n, nctx, cache);
        float[] rows = new float[Math.min(LOGIT_CHUNK, n) * hidden];
        for (int t0 = 0; t0 < n; t0 += LOGIT_CHUNK) {
            int m = Math.min(LOGIT_CHUNK, n - t0);
            System.arraycopy(h, t0 * hidden, rows, 0, m * hidden);
            float[] logits = tf.logits(rows, m);
            for (int t = 0; t < m; t++) sum += Ops.logProb(logits, t * vocab, vocab, cont[t0 + t + 1]);
        }
        return sum;
    }

    /**
     * The one reused cache, regrown (to a power of two, at most maxLength) when an item needs more positions. Stale
     * rows past the current item are harmless: attention only reads positions written for this item.
     */
    private KvCache cache(int positions) {
        if (cache == null || cache.capacity() < positions) {
            cache = tf.newCache(Math.min(maxLength, Integer.highestOneBit(Math.max(1, positions - 1)) << 1));
        }
        return cache;
    }
}
