package dev.tern.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Bytes of streamed token pieces, released as text only up to the last complete UTF-8 character. */
final class PendingUtf8 {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Appends a piece's bytes; returns the text that is now complete (possibly empty). */
    String append(byte[] piece) {
        pending.writeBytes(piece);
        byte[] b = pending.toByteArray();
        int cut = completePrefix(b);
        pending.reset();
        pending.write(b, cut, b.length - cut);
        return new String(b, 0, cut, StandardCharsets.UTF_8);
    }

    /** Whatever is held back; an unfinished character decodes to U+FFFD. */
    String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /**
     * Length of the longest prefix that does not end inside an unfinished UTF-8 sequence. Cutting just before a lead
     * byte never changes how the rest decodes, so streamed text equals a one-shot decode.
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xff;
            if ((c & 0xC0) == 0x80) {
                continue;
            }
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 1;
            return back < need ? n - back : n;
        }
        return n;
    }
}
