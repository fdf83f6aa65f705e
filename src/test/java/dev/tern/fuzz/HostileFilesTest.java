package dev.tern.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tern.tokenizer.Llama2cTokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile inputs too large for the committed fuzz corpus, built at test time. */
class HostileFilesTest {
    @TempDir
    Path dir;

    /** A 266 KB tokenizer.bin of four 64 K-byte pieces used to take ~18 s to load (every split of every piece). */
    @Test
    void longLlama2cPiecesLoadQuickly() throws Exception {
        int big = 65536, n = 4;
        ByteBuffer b = ByteBuffer.allocate(8 + 259 * 16 + n * (big + 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(big);
        for (int i = 0; i < 259; i++) {
            String p = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : String.format("<0x%02X>", i - 3);
            b.putFloat(0).putInt(p.length()).put(p.getBytes(StandardCharsets.ISO_8859_1));
        }
        for (int i = 0; i < n; i++) {
            b.putFloat(i).putInt(big - i);
            for (int k = 0; k < big - i; k++) b.put((byte) 'a');
        }
        Path f = dir.resolve("tokenizer.bin");
        Files.write(f, java.util.Arrays.copyOf(b.array(), b.position()));
        long start = System.nanoTime();
        assertEquals(259 + n, Llama2cTokenizer.load(f).vocabSize());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // Generous for a loaded CI machine; the quadratic version needed ~18 s here.
        org.junit.jupiter.api.Assertions.assertTrue(took.toSeconds() < 5, "took " + took);
    }
}
