package dev.tern.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TernException;
import org.junit.jupiter.api.Test;

class ModelMemoryCheckTest {
    private static final long GIB = 1L << 30;

    @Test
    void sevenBillionF32IsRefusedWithTheBf16Hint() {
        ModelConfig c = Architectures.get("llama-2-7b");
        // 6.5e9 projection weights: 26 GB as f32, 13 GB as bf16.
        TernException e = assertThrows(TernException.class, () -> ModelLoader.checkMemory(c, 4, 18 * GIB));
        assertTrue(e.getMessage().contains("--weights bf16"), e.getMessage());
        assertDoesNotThrow(() -> ModelLoader.checkMemory(c, 2, 18 * GIB));
        TernException e2 = assertThrows(TernException.class, () -> ModelLoader.checkMemory(c, 2, 8 * GIB));
        assertTrue(e2.getMessage().contains("TERN_HEAP"), e2.getMessage());
    }

    @Test
    void estimateCountsEveryProjection() {
        ModelConfig c = Architectures.get("tinyllama-1.1b");
        long f32 = ModelLoader.estimateBytes(c, 4), bf16 = ModelLoader.estimateBytes(c, 2);
        // 22 layers x (2*2048*2048 + 2*2048*256 + 3*2048*5632) = 968M projection weights and the untied
        // 32000 x 2048 head: 2 bytes each apart.
        long diff = f32 - bf16;
        long weights = 22L * (2L * 2048 * 2048 + 2L * 2048 * 256 + 3L * 2048 * 5632) + 32000L * 2048;
        assertTrue(diff == 2 * weights, diff + " vs " + 2 * weights);
    }
}
