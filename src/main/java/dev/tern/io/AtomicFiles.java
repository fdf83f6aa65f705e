package dev.tern.io;

import dev.tern.TernException;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Writes files so readers see either the old content or the complete new content, never a torn file. */
public final class AtomicFiles {
    private AtomicFiles() {}

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /** Writes through a buffered stream; the stream must not be closed by the body. */
    public static void write(Path target, IoConsumer<OutputStream> body) {
        writeChannel(target, ch -> {
            // Closing this wrapper must not close the channel: it still has to be forced.
            OutputStream os = new BufferedOutputStream(new FilterOutputStream(Channels.newOutputStream(ch)) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    flush();
                }
            }, 1 << 16);
            body.accept(os);
            os.flush();
        });
    }

    public static void writeString(Path target, String content) {
        writeBytes(target, content.getBytes(StandardCharsets.UTF_8));
    }

    public static void writeBytes(Path target, byte[] content) {
        write(target, os -> os.write(content));
    }

    /** Gives the body a fresh channel on a temp file next to target; on success it is fsync'd and renamed. */
    public static void writeChannel(Path target, IoConsumer<FileChannel> body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        boolean ok = false;
        try {
            Files.createDirectories(dir);
            // Same directory so the final rename stays on one filesystem and can be atomic. Not createTempFile: its
            // owner-only permissions would carry over to the model, which another user's llama.cpp or ollama
            // service then cannot read; a file created with CREATE_NEW gets the umask's permissions like any other.
            FileChannel opened = null;
            for (int attempt = 0; opened == null; attempt++) {
                tmp = dir.resolve("." + abs.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
                try {
                    opened = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    tmp = null;
                    if (attempt == 16) throw e;
                }
            }
            try (FileChannel ch = opened) {
                body.accept(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("filesystem does not support atomic rename", e);
            }
            ok = true;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new TernException("cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            if (!ok && tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Best effort: the original failure is the one worth reporting.
                }
            }
        }
    }

    /** Makes the rename itself durable; not every platform lets a directory be opened, so failures are ignored. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Durability of the directory entry is a bonus, not a correctness requirement.
        }
    }
}
