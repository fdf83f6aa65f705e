package dev.tern.tokenizer;

import dev.tern.TernException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * llama2.c's tokenizer.bin: a scored SentencePiece vocabulary encoded with llama2.c's greedy highest-score merge.
 * Ids 0, 1, 2 are unk, BOS and EOS; ids 3..258 are the byte tokens &lt;0x00&gt;..&lt;0xFF&gt;.
 */
public final class Llama2cTokenizer implements Tokenizer {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;
    private static final int MAX_SANE_TOKEN_LENGTH = 1 << 16;

    /** Pieces as byte strings, one byte per char (ISO-8859-1), so lookups match llama2.c's C strings exactly. */
    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> lookup;
    private final MergeEngine merger;
    /** Decoded bytes of each piece (byte tokens resolved to their byte). */
    private final byte[][] pieceBytes;

    private Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        this.lookup = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            // llama2.c bsearches a sorted copy, so with duplicate pieces any id may win; the first is a stable choice.
            lookup.putIfAbsent(pieces[i], i);
        }
        this.merger = new MergeEngine(buildPairs());
        this.pieceBytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            int b = TokenDecoder.byteToken(pieces[i]);
            pieceBytes[i] = b >= 0 ? new byte[] {(byte) b} : pieces[i].getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * llama2.c merges the adjacent pair whose concatenation is a piece with the highest score, leftmost on ties.
     * Every such pair is some piece split in two, so enumerating splits yields the complete pair table; ranks are
     * dense by descending score so equal scores tie-break by position, as llama2.c's strict ">" scan does.
     */
    private LongLongMap buildPairs() {
        float[] distinct = scores.clone();
        java.util.Arrays.sort(distinct);
        Map<Float, Integer> rankOf = new HashMap<>();
        for (int i = distinct.length - 1; i >= 0; i--) {
            rankOf.putIfAbsent(distinct[i] == 0.0f ? 0.0f : distinct[i], rankOf.size());
        }
        LongLongMap pairs = new LongLongMap(pieces.length * 4);
        // Only split where both halves have the length of some piece: trying every split of every piece is quadratic
        // in the piece length, and a hostile file of a few long pieces (max_token_length 65536) took minutes to load.
        java.util.BitSet lengths = new java.util.BitSet();
        for (String s : pieces) {
            lengths.set(s.length());
        }
        for (int t = 0; t < pieces.length; t++) {
            String s = pieces[t];
            if (lookup.get(s) != t) {
                continue;
            }
            for (int k = lengths.nextSetBit(1); k >= 1 && k < s.length(); k = lengths.nextSetBit(k + 1)) {
                if (!lengths.get(s.length() - k)) {
                    continue;
                }
                Integer a = lookup.get(s.substring(0, k));
                Integer b = lookup.get(s.substring(k));
                if (a != null && b != null) {
                    float sc = scores[t] == 0.0f ? 0.0f : scores[t];
                    pairs.putIfAbsent(MergeEngine.pairKey(a, b), MergeEngine.pairValue(rankOf.get(sc), t));
                }
            }
        }
        return pairs;
    }

    /** Loads a tokenizer.bin holding exactly {@code vocabSize} tokens (the model's vocab_size). */
    public static Llama2cTokenizer load(Path tokBin, int vocabSize) {
        if (vocabSize <= BYTE_OFFSET + 256) {
            throw new TernException(tokBin + ": vocab size " + vocabSize + " is too small for a llama2.c tokenizer (needs > 259)");
        }
        return parse(tokBin, vocabSize);
    }

    /** Loads a tokenizer.bin, taking every token up to the end of the file. */
    public static Llama2cTokenizer load(Path tokBin) {
        return parse(tokBin, -1);
    }

    private static Llama2cTokenizer parse(Path file, int expected) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new TernException(file + ": tokenizer file not found");
        } catch (IOException e) {
            throw new TernException(file + ": cannot read tokenizer file: " + e.getMessage(), e);
        }
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.remaining() < 4) {
            throw new TernException(file + ": not a llama2.c tokenizer (shorter than its 4-byte header)");
        }
        int maxLen = buf.getInt();
        if (maxLen <= 0 || maxLen > MAX_SANE_TOKEN_LENGTH) {
            throw new TernException(file + ": not a llama2.c tokenizer (max_token_length " + maxLen + ")");
        }
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (expected < 0 ? buf.hasRemaining() : pieces.size() < expected) {
            int idx = pieces.size();
            if (buf.remaining() < 8) {
                throw new TernException(file + ": truncated at token " + idx + (expected > 0 ? " of " + expected : ""));
            }
            float score = buf.getFloat();
            int len = buf.getInt();
            if (len < 0 || len > maxLen) {
                throw new TernException(file + ": token " + idx + " has length " + len + " (max_token_length " + maxLen + ")");
            }
            if (len > buf.remaining()) {
                throw new TernException(file + ": token " + idx + " runs past the end of the file");
            }
            if (Float.isNaN(score)) {
                throw new TernException(file + ": token " + idx + " has a NaN score");
            }
            byte[] bytes = new byte[len];
            buf.get(bytes);
            pieces.add(new String(bytes, StandardCharsets.ISO_8859_1));
            scores.add(score);
        }
        if (pieces.size() <= BYTE_OFFSET + 256) {
            throw new TernException(file + ": only " + pieces.size() + " tokens; a llama2.c tokenizer has unk, BOS, EOS and 256 byte tokens first");
        }
        for (int b = 0; b < 256; b++) {
            if (TokenDecoder.byteToken(pieces.get(BYTE_OFFSET + b)) != b) {
                throw new TernException(file + ": token " + (BYTE_OFFSET + b) + " should be the byte token <0x"
                        + String.format("%02X", b) + "> but is \"" + pieces.get(BYTE_OFFSET + b) + "\"");
            }
        }
        float[] sc = new float[scores.size()];
        for (int i = 0; i < sc.length; i++) {
            sc[i] = scores.get(i);
        }
        return new Llama2cTokenizer(pieces.toArray(String[]::new), sc);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        IntList syms = new IntList(bytes.length + 2);
        if (bytes.length > 0) {
            Integer space = lookup.get(" ");
            if (space != null) {
                syms.add(space);
            }
        }
        // Walk UTF-8 code points the way llama2.c does: a lead byte plus up to 3 continuation bytes.
        int i = 0;
        while (i < bytes.length) {
            int j = i + 1;
            while (j < bytes.length && j - i < 4 && (bytes[j] & 0xC0) == 0x80) {
                j++;
            }
            Integer id = lookup.get(new String(bytes, i, j - i, StandardCharsets.ISO_8859_1));
            if (id != null) {
                syms.add(id);
            } else {
                for (int k = i; k < j; k++) {
                    syms.add((bytes[k] & 0xff) + BYTE_OFFSET);
                }
            }
            i = j;
        }
        int[] merged = merger.merge(syms.toArray());
        if (!addBos) {
            return merged;
        }
        int[] out = new int[merged.length + 1];
        out[0] = BOS;
        System.arraycopy(merged, 0, out, 1, merged.length);
        return out;
    }

    /** llama2.c's decode(prev, token) as bytes: after BOS a piece loses one leading space; specials yield nothing. */
    private byte[] pieceAfter(int prev, int id) {
        checkId(id);
        if (isSpecial(id)) {
            return new byte[0];
        }
        byte[] p = pieceBytes[id];
        if (prev == BOS && p.length > 0 && p[0] == ' ' && TokenDecoder.byteToken(pieces[id]) < 0) {
            return java.util.Arrays.copyOfRange(p, 1, p.length);
        }
        return p;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = -1;
        for (int id : ids) {
            out.writeBytes(pieceAfter(prev, id));
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public StreamDecoder streamDecoder() {
        return new StreamDecoder() {
            private final PendingUtf8 pending = new PendingUtf8();
            private int prev = -1;

            @Override
            public String next(int id) {
                String s = pending.append(pieceAfter(prev, id));
                prev = id;
                return s;
            }

            @Override
            public String flush() {
                return pending.flush();
            }
        };
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new TernException("token id " + id + " is outside the tokenizer's vocabulary (size " + pieces.length + ")");
        }
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public Set<Integer> eosIds() {
        return Set.of(EOS);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    /** The piece as text (UTF-8 decoded; byte tokens keep their "&lt;0xAB&gt;" spelling). */
    @Override
    public String tokenText(int id) {
        checkId(id);
        return new String(pieces[id].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /** The llama2.c merge score of a token (higher merges first). */
    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < BYTE_OFFSET;
    }
}
