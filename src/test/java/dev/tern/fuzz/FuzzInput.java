package dev.tern.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits one fuzz input into several files. Raw byte[] targets keep seeds human-buildable (the parts are just the
 * files, joined by a marker) and let the fuzzer mutate each file in place, which FuzzedDataProvider's
 * back-of-the-buffer integers would not.
 */
final class FuzzInput {
    /** Unlikely in JSON or in small binary seeds; the fuzzer learns it from the seeds and comparisons. */
    static final byte[] SEPARATOR = "\n%%TERN-FUZZ-PART%%\n".getBytes(StandardCharsets.US_ASCII);

    private FuzzInput() {}

    /** At most {@code max} parts; the last one keeps any further separators. Missing parts are absent, not empty. */
    static List<byte[]> split(byte[] input, int max) {
        List<byte[]> parts = new ArrayList<>();
        int start = 0;
        while (parts.size() < max - 1) {
            int at = indexOf(input, start);
            if (at < 0) break;
            parts.add(Arrays.copyOfRange(input, start, at));
            start = at + SEPARATOR.length;
        }
        parts.add(Arrays.copyOfRange(input, start, input.length));
        return parts;
    }

    /** The inverse of {@link #split}, used to write seeds. */
    static byte[] join(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n + Math.max(0, parts.length - 1) * SEPARATOR.length];
        int at = 0;
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                System.arraycopy(SEPARATOR, 0, out, at, SEPARATOR.length);
                at += SEPARATOR.length;
            }
            System.arraycopy(parts[i], 0, out, at, parts[i].length);
            at += parts[i].length;
        }
        return out;
    }

    private static int indexOf(byte[] a, int from) {
        outer:
        for (int i = from; i <= a.length - SEPARATOR.length; i++) {
            for (int k = 0; k < SEPARATOR.length; k++) {
                if (a[i + k] != SEPARATOR[k]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
