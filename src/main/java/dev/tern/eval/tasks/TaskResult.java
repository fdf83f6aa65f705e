package dev.tern.eval.tasks;

/**
 * Outcome of one task: n items, how many the raw and the length-normalised log-likelihood got right
 * (normCorrect is -1 when the task does not report acc_norm), and the time taken.
 */
public record TaskResult(Task task, int n, int correct, int normCorrect, double seconds) {
    public double acc() {
        return (double) correct / n;
    }

    public double accStderr() {
        return stderr(acc(), n);
    }

    public boolean hasNorm() {
        return normCorrect >= 0;
    }

    /** NaN when the task does not report acc_norm. */
    public double accNorm() {
        return hasNorm() ? (double) normCorrect / n : Double.NaN;
    }

    public double accNormStderr() {
        return hasNorm() ? stderr(accNorm(), n) : Double.NaN;
    }

    /**
     * The harness's mean_stderr, the sample standard deviation over sqrt(n): for 0/1 scores with mean p that is
     * sqrt(p(1−p)/(n−1)). NaN for fewer than two items, where the harness reports N/A.
     */
    public static double stderr(double p, int n) {
        return n < 2 ? Double.NaN : Math.sqrt(p * (1 - p) / (n - 1));
    }
}
