package dev.tern.tokenizer;

import dev.tern.TernException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/** What llama.cpp's SPM and BPE vocabularies share: special-token partition, BOS/EOS, byte-wise decoding. */
abstract sealed class GgufTokenizerBase implements Tokenizer permits SpmTokenizer, GgufBpeTokenizer {
    /** Token texts llama.cpp treats as end-of-generation when they are CONTROL tokens, besides the EOS id. */
    private static final Set<String> EOG_NAMES = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|eom_id|>", "<EOT>", "<|end_of_text|>");

    final GgufVocab vocab;
    final String[] tokens;
    final int[] types;
    private final SpecialSplitter specials;
    private final Set<Integer> eosIds;
    /** Decoded bytes of every token; empty for the ones decode() skips. */
    private final byte[][] pieces;

    GgufTokenizerBase(GgufVocab vocab, boolean byteLevel) {
        this.vocab = vocab;
        this.tokens = vocab.tokens().toArray(String[]::new);
        this.types = vocab.tokenTypes().clone();
        this.specials = new SpecialSplitter(vocab.tokens(), types);
        Set<Integer> eos = new LinkedHashSet<>();
        if (vocab.eosId() >= 0) {
            eos.add(vocab.eosId());
        }
        for (int id = 0; id < tokens.length; id++) {
            if (types[id] == GgufVocab.CONTROL && EOG_NAMES.contains(tokens[id])) {
                eos.add(id);
            }
        }
        this.eosIds = Collections.unmodifiableSet(eos);
        this.pieces = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            pieces[id] = isSpecial(id) ? new byte[0] : piece(tokens[id], types[id], byteLevel);
        }
    }

    /** Appends the ids of one stretch of text between special tokens. */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    /** Whether decode() drops one leading space of the first piece (undoing add_space_prefix). */
    abstract boolean stripsLeadingSpace();

    /**
     * The bytes a token decodes to, as llama.cpp's token_to_piece: NORMAL with ▁ as space (SPM) or through the GPT-2
     * byte map (BPE), BYTE tokens as their byte (SPM only), USER_DEFINED verbatim.
     */
    private static byte[] piece(String text, int type, boolean byteLevel) {
        return switch (type) {
            case GgufVocab.NORMAL -> byteLevel ? byteLevelBytes(text) : utf8(text.replace('\u2581', ' '));
            case GgufVocab.BYTE -> byteLevel ? new byte[0] : new byte[] {(byte) TokenDecoder.byteToken(text)};
            case GgufVocab.USER_DEFINED -> utf8(text);
            default -> new byte[0];
        };
    }

    /** GPT-2 byte images back to bytes; a token with chars outside the map keeps its UTF-8 (as TokenDecoder does). */
    private static byte[] byteLevelBytes(String text) {
        byte[] out = new byte[text.length()];
        for (int i = 0; i < text.length(); i++) {
            int b = ByteLevelMap.byteOf(text.charAt(i));
            if (b < 0) {
                return utf8(text);
            }
            out[i] = (byte) b;
        }
        return out;
    }

    @Override
    public final int[] encode(String text, boolean addBos) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addBos && vocab.addBos()) {
            out.add(vocab.bosId());
        }
        boolean afterSpecial = true;
        for (SpecialSplitter.Fragment f : specials.split(text)) {
            if (f.token() >= 0) {
                out.add(f.token());
                afterSpecial = true;
            } else {
                encodeText(f.text(), afterSpecial, out);
                afterSpecial = false;
            }
        }
        if (addBos && vocab.addEos()) {
            out.add(vocab.eosId());
        }
        return out.toArray();
    }

    /** The bytes of id given whether any text came before it; empty for skipped ids. */
    private byte[] pieceAt(int id, boolean atStart) {
        checkId(id);
        byte[] p = pieces[id];
        if (atStart && p.length > 0 && p[0] == ' ' && stripsLeadingSpace()) {
            return java.util.Arrays.copyOfRange(p, 1, p.length);
        }
        return p;
    }

    @Override
    public final String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean started = false;
        for (int id : ids) {
            out.writeBytes(pieceAt(id, !started));
            started |= pieces[id].length > 0;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public final StreamDecoder streamDecoder() {
        return new StreamDecoder() {
            private final PendingUtf8 pending = new PendingUtf8();
            private boolean started;

            @Override
            public String next(int id) {
                byte[] p = pieceAt(id, !started);
                started |= pieces[id].length > 0;
                return pending.append(p);
            }

            @Override
            public String flush() {
                return pending.flush();
            }
        };
    }

    final void checkId(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new TernException("token id " + id + " is outside the tokenizer's vocabulary (size " + tokens.length + ")");
        }
    }

    @Override
    public final int bosId() {
        return vocab.bosId();
    }

    @Override
    public final Set<Integer> eosIds() {
        return eosIds;
    }

    @Override
    public final int vocabSize() {
        return tokens.length;
    }

    @Override
    public final String tokenText(int id) {
        checkId(id);
        return tokens[id];
    }

    /** CONTROL, UNKNOWN and UNUSED tokens, which llama.cpp renders as nothing unless asked for specials. */
    @Override
    public final boolean isSpecial(int id) {
        checkId(id);
        int t = types[id];
        return t == GgufVocab.CONTROL || t == GgufVocab.UNKNOWN || t == GgufVocab.UNUSED;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
