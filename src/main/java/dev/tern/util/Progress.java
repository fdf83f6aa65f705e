package dev.tern.util;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar on stderr with ETA (me.tongfei.progressbar), or nothing when disabled (tests, --json, no terminal). */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    public static Progress start(String task, long total, String unit, boolean enabled) {
        if (!enabled) return new Progress(null);
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setUnit(" " + unit, 1)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(500)
                .showSpeed()
                .continuousUpdate()
                .build();
        return new Progress(bar);
    }

    public void step() {
        if (bar != null) bar.step();
    }

    public void stepBy(long n) {
        if (bar != null) bar.stepBy(n);
    }

    public void stepTo(long n) {
        if (bar != null) bar.stepTo(n);
    }

    public void message(String extra) {
        if (bar != null) bar.setExtraMessage(extra);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
