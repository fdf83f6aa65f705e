package dev.tern;

/** A user-facing failure (bad file, bad flag, unsupported model): the CLI prints its message on one line and exits non-zero. */
public class TernException extends RuntimeException {
    public TernException(String message) {
        super(message);
    }

    public TernException(String message, Throwable cause) {
        super(message, cause);
    }
}
