package dev.tern.fuzz;

import dev.tern.io.AtomicFiles;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Child-JVM body for {@link AtomicFilesCrashTest}: writes {@code chunks} x 64 KiB to a path through
 * {@link AtomicFiles#write}, announcing each flushed chunk on stdout and sleeping between chunks so the parent can
 * SIGKILL it mid-write.
 */
public final class AtomicWriteChild {
    static final int CHUNK = 64 * 1024;

    private AtomicWriteChild() {}

    /** Arguments: target path, number of chunks, milliseconds to sleep after each chunk. */
    public static void main(String[] args) {
        Path target = Path.of(args[0]);
        int chunks = Integer.parseInt(args[1]);
        long sleepMs = Long.parseLong(args[2]);
        byte[] chunk = new byte[CHUNK];
        Arrays.fill(chunk, (byte) 'n');
        AtomicFiles.write(target, os -> {
            for (int i = 0; i < chunks; i++) {
                os.write(chunk);
                // Flushed bytes reach the temp file, so a kill after this point leaves a partly written temp file.
                os.flush();
                System.out.println("chunk " + i);
                System.out.flush();
                if (sleepMs > 0) {
                    try {
                        Thread.sleep(sleepMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        });
        System.out.println("done");
    }
}
