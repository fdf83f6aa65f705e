package dev.tern.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TritPackingTest {
    @Test
    void base3RoundTripsEveryShape() {
        Random r = new Random(1);
        for (int cols : new int[] {1, 4, 5, 6, 9, 10, 11, 127, 128, 129}) {
            int rows = 3;
            byte[] t = new byte[rows * cols];
            for (int i = 0; i < t.length; i++) t[i] = (byte) (r.nextInt(3) - 1);
            byte[] packed = TritPacking.packBase3(t, rows, cols);
            assertEquals(rows * ((cols + 4) / 5), packed.length);
            assertArrayEquals(t, TritPacking.unpackBase3(packed, rows, cols), "cols " + cols);
        }
    }

    @Test
    void base3DigitOrderIsLittleEndian() {
        // trits (+1, 0, -1, 0, 0) -> digits (2,1,0,1,1) -> 2 + 1*3 + 0*9 + 1*27 + 1*81 = 113
        byte[] packed = TritPacking.packBase3(new byte[] {1, 0, -1, 0, 0}, 1, 5);
        assertEquals(113, packed[0] & 0xff);
    }

    @Test
    void bitPackingRoundTrips() {
        Random r = new Random(2);
        for (int bits = 1; bits <= 8; bits++) {
            for (int cols : new int[] {1, 3, 7, 8, 9, 33}) {
                byte[] c = new byte[2 * cols];
                for (int i = 0; i < c.length; i++) c[i] = (byte) r.nextInt(1 << bits);
                assertArrayEquals(c, TritPacking.unpackBits(TritPacking.packBits(c, 2, cols, bits), 2, cols, bits));
            }
        }
    }

    @Test
    void rejectsInvalidInput() {
        assertThrows(IllegalArgumentException.class, () -> TritPacking.packBase3(new byte[] {2}, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> TritPacking.unpackBase3(new byte[] {(byte) 250}, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> TritPacking.packBits(new byte[] {4}, 1, 1, 2));
    }
}
