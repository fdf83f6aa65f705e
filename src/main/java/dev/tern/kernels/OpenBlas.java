package dev.tern.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/** Optional FFM binding to OpenBLAS cblas_sgemm, used only by benchmarks as the speed yardstick. */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final MethodHandle SGEMM;
    private static final MethodHandle SET_THREADS;
    private static final String WHY_NOT;

    static {
        MethodHandle sgemm = null, threads = null;
        String why = null;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib = null;
            for (String name : new String[] {"libopenblas.so.0", "libopenblas.so"}) {
                try {
                    // global arena: the library must stay loaded for the life of the process
                    lib = SymbolLookup.libraryLookup(name, Arena.global());
                    break;
                } catch (IllegalArgumentException notFound) {
                    why = "no " + name;
                }
            }
            if (lib != null) {
                ValueLayout I = ValueLayout.JAVA_INT, F = ValueLayout.JAVA_FLOAT, P = ValueLayout.ADDRESS;
                Optional<MemorySegment> s = lib.find("cblas_sgemm");
                if (s.isPresent()) {
                    sgemm = linker.downcallHandle(s.get(),
                            FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, P, I, P, I, F, P, I));
                    why = null;
                } else {
                    why = "cblas_sgemm not exported";
                }
                Optional<MemorySegment> t = lib.find("openblas_set_num_threads");
                if (t.isPresent()) threads = linker.downcallHandle(t.get(), FunctionDescriptor.ofVoid(I));
            }
        } catch (Throwable e) {
            why = e.toString();
            sgemm = null;
        }
        SGEMM = sgemm;
        SET_THREADS = threads;
        WHY_NOT = why;
    }

    private OpenBlas() {}

    public static boolean isAvailable() {
        return SGEMM != null;
    }

    /** Why {@link #isAvailable()} is false (null when it is available). */
    public static String unavailableReason() {
        return WHY_NOT;
    }

    /** Sets OpenBLAS's worker count if the library exports openblas_set_num_threads; returns whether it did. */
    public static boolean setThreads(int n) {
        if (SET_THREADS == null) return false;
        try {
            SET_THREADS.invokeExact(n);
            return true;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * y[tokens][out] = x[tokens][in] · w[out][in]ᵀ with all three in native memory (f32, row-major) — the same
     * contract as {@link LinearOp#apply}.
     */
    public static void linear(MemorySegment x, MemorySegment w, MemorySegment y, int tokens, int in, int out) {
        if (SGEMM == null) throw new IllegalStateException("OpenBLAS not available: " + WHY_NOT);
        try {
            SGEMM.invokeExact(ROW_MAJOR, NO_TRANS, TRANS, tokens, out, in, 1f, x, in, w, in, 0f, y, out);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
