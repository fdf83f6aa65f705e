package dev.tern.io;

import dev.tern.TernException;
import dev.tern.model.ModelConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A llama2.c legacy (version 0) checkpoint, exposed under Hugging Face LLaMA tensor names.
 *
 * <p>llama2.c rotates adjacent pairs (2i, 2i+1) of each head with RoPE, while Hugging Face LLaMA rotates
 * (i, i + headDim/2) ("rotate half"). Both use frequency theta^(-2i/headDim) for pair i, so permuting the output
 * rows of wq and wk within each head turns one convention into the other: HF row (h, half, i) takes llama2.c row
 * (h, 2i + half). Attention scores are q·k with the same permutation on both sides, so they are unchanged. The
 * conversion happens in {@link #floats}, so the rest of Tern only ever sees the HF convention.
 */
public final class Llama2cCheckpoint implements TensorSource {
    private static final int HEADER_BYTES = 7 * 4;
    private static final int MAX_DIM = 65536;
    /** Newer llama2.c exports (version 1, 2) start with this magic ("ak42"); only the legacy layout is supported. */
    private static final int EXPORT_MAGIC = 0x616b3432;
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Slot(long byteOffset, long[] shape, boolean ropePermute) {
        long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final ModelConfig config;
    private final Map<String, Slot> slots;

    private Llama2cCheckpoint(Path path, Arena arena, MemorySegment file, ModelConfig config, Map<String, Slot> slots) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.config = config;
        this.slots = slots;
    }

    public static Llama2cCheckpoint open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) throw bad(path, "file too short for a llama2.c header (" + size + " bytes)");
            Arena arena = Arena.ofShared();
            try {
                MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                int[] h = new int[7];
                for (int i = 0; i < 7; i++) h[i] = seg.get(I32_LE, 4L * i);
                Layout layout = layout(path, h, size);
                return new Llama2cCheckpoint(path, arena, seg, layout.config, layout.slots);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new TernException("missing " + path);
        } catch (IOException e) {
            throw new TernException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private record Layout(ModelConfig config, Map<String, Slot> slots) {}

    /** Validates the header against the file length, then assigns every tensor its byte range. */
    private static Layout layout(Path path, int[] h, long fileSize) {
        if (h[0] == EXPORT_MAGIC) {
            throw bad(path, "llama2.c export version " + h[1] + " is not supported (only the legacy format)");
        }
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocabRaw = h[5], seqLen = h[6];
        String desc = "dim " + dim + ", hidden_dim " + hidden + ", n_layers " + layers + ", n_heads " + heads
                + ", n_kv_heads " + kvHeads + ", vocab_size " + vocabRaw + ", seq_len " + seqLen;
        boolean shared = vocabRaw > 0;
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocabRaw == 0 || seqLen <= 0
                || vocabRaw == Integer.MIN_VALUE) {
            throw bad(path, "not a llama2.c checkpoint: header has non-positive sizes (" + desc + ")");
        }
        int vocab = Math.abs(vocabRaw);
        if (dim > MAX_DIM || hidden > 4 * MAX_DIM || layers > 1024 || heads > dim || vocab > 1 << 22
                || seqLen > 1 << 20) {
            throw bad(path, "not a llama2.c checkpoint: implausible header sizes (" + desc + ")");
        }
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
            throw bad(path, "inconsistent llama2.c header: dim must split into an even head size and n_heads must be a"
                    + " multiple of n_kv_heads (" + desc + ")");
        }
        int headSize = dim / heads;
        int kvDim = kvHeads * headSize;
        Map<String, Slot> slots = new TreeMap<>();
        long[] off = {HEADER_BYTES};
        // Each block is [L][rows][cols]; the cursor advances in the exact order llama2.c writes the arrays.
        var cursor = new Object() {
            long take(long count) {
                long start = off[0];
                off[0] = Math.addExact(off[0], Math.multiplyExact(count, 4L));
                return start;
            }

            void perLayer(String suffix, long rows, long cols, boolean rope) {
                long per = Math.multiplyExact(rows, cols);
                for (int l = 0; l < layers; l++) {
                    long[] shape = cols == 1 ? new long[] {rows} : new long[] {rows, cols};
                    slots.put("model.layers." + l + "." + suffix, new Slot(take(per), shape, rope));
                }
            }
        };
        long needed;
        try {
            slots.put("model.embed_tokens.weight", new Slot(cursor.take((long) vocab * dim), new long[] {vocab, dim}, false));
            cursor.perLayer("input_layernorm.weight", dim, 1, false);
            cursor.perLayer("self_attn.q_proj.weight", dim, dim, true);
            cursor.perLayer("self_attn.k_proj.weight", kvDim, dim, true);
            cursor.perLayer("self_attn.v_proj.weight", kvDim, dim, false);
            cursor.perLayer("self_attn.o_proj.weight", dim, dim, false);
            cursor.perLayer("post_attention_layernorm.weight", dim, 1, false);
            cursor.perLayer("mlp.gate_proj.weight", hidden, dim, false);
            cursor.perLayer("mlp.down_proj.weight", dim, hidden, false);
            cursor.perLayer("mlp.up_proj.weight", hidden, dim, false);
            slots.put("model.norm.weight", new Slot(cursor.take(dim), new long[] {dim}, false));
            cursor.take(Math.multiplyExact((long) seqLen, headSize)); // freq_cis real + imag: unused, HF recomputes
            Slot cls = shared ? slots.get("model.embed_tokens.weight")
                    : new Slot(cursor.take((long) vocab * dim), new long[] {vocab, dim}, false);
            slots.put("lm_head.weight", cls);
            needed = off[0];
        } catch (ArithmeticException e) {
            throw bad(path, "llama2.c header sizes overflow (" + desc + ")");
        }
        if (needed != fileSize) {
            throw bad(path, "size mismatch: llama2.c header (" + desc + ") implies " + needed + " bytes but the file has "
                    + fileSize);
        }
        ModelConfig cfg = new ModelConfig("llama", dim, hidden, layers, heads, kvHeads, headSize, vocab, seqLen,
                10000.0, 1e-5, shared, false, false, null, 1, List.of(2));
        return new Layout(cfg, Collections.unmodifiableMap(slots));
    }

    private static TernException bad(Path path, String problem) {
        return new TernException(path + ": " + problem);
    }

    /** Hyper-parameters in Tern's form (rope_theta 10000, rms eps 1e-5, bos 1, eos 2, as llama2.c hard-codes). */
    public ModelConfig config() {
        return config;
    }

    /** True if the classifier shares the token embedding (positive vocab_size in the header). */
    public boolean sharedClassifier() {
        return config.tiedEmbeddings();
    }

    public Path path() {
        return path;
    }

    private Slot slot(String name) {
        Slot s = slots.get(name);
        if (s == null) throw bad(path, "no tensor named '" + name + "'");
        return s;
    }

    @Override
    public Set<String> names() {
        return slots.keySet();
    }

    @Override
    public boolean has(String name) {
        return slots.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return slot(name).shape.clone();
    }

    @Override
    public String dtype(String name) {
        slot(name);
        return "F32";
    }

    @Override
    public float[] floats(String name) {
        Slot s = slot(name);
        long n = s.numel();
        float[] raw = SafetensorsFile.toFloats(file.asSlice(s.byteOffset, n * 4), Dtype.F32, n,
                path + ": tensor '" + name + "'");
        return s.ropePermute ? interleavedToRotateHalf(raw, (int) s.shape[0], (int) s.shape[1], config.headDim()) : raw;
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of("format", "llama2c");
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    /**
     * Reorders the output rows of a q/k projection [rows][cols] from llama2.c's interleaved RoPE pairs to HF
     * rotate-half pairs: within each head, HF row (half * headDim/2 + i) = llama2.c row (2i + half).
     */
    public static float[] interleavedToRotateHalf(float[] w, int rows, int cols, int headDim) {
        if ((long) rows * cols != w.length || rows % headDim != 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("bad q/k shape " + rows + "x" + cols + " for head_dim " + headDim);
        }
        float[] out = new float[w.length];
        int halfDim = headDim / 2;
        for (int h = 0; h < rows / headDim; h++) {
            int base = h * headDim;
            for (int half = 0; half < 2; half++) {
                for (int i = 0; i < halfDim; i++) {
                    int dst = base + half * halfDim + i;
                    int src = base + 2 * i + half;
                    System.arraycopy(w, src * cols, out, dst * cols, cols);
                }
            }
        }
        return out;
    }
}
