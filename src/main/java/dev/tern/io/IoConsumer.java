package dev.tern.io;

import java.io.IOException;

/** A consumer that may throw IOException, for bodies passed to {@link AtomicFiles}. */
@FunctionalInterface
public interface IoConsumer<T> {
    void accept(T t) throws IOException;
}
