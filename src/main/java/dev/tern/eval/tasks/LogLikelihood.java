package dev.tern.eval.tasks;

import java.util.List;

/**
 * Log-likelihoods of continuations given a context: the seam between task scoring and the model, so the metrics can
 * be tested against known values.
 */
public interface LogLikelihood {
    /** For each continuation, the sum of its token log-probabilities after {@code context}. */
    double[] score(String context, List<String> continuations);
}
