package dev.tern.cli;

/** The tool version recorded in checkpoints and printed by --version. */
public final class Versions {
    public static final String VERSION = "0.1.0";

    private Versions() {}
}
