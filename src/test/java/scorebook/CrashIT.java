package scorebook;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import scorebook.testing.CrashAndLoad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar killed with SIGKILL at random moments under mixed load (result appends, gateway calls, a suite
 * run in progress), and under 32 concurrent clients: a short version of CrashBench (./run.sh bench crash).
 */
class CrashIT {
    @Test
    void everyAcknowledgedWriteSurvivesKillDashNineAndNoRowIsLeftRunning() throws Exception {
        CrashAndLoad.CrashFigures f = CrashAndLoad.crashCycles(3, System.nanoTime(), Duration.ofMillis(1500));
        System.out.println("CrashIT: " + f);
        assertTrue(f.acknowledged() > 0, "the load wrote something: " + f);
        assertTrue(f.gatewayCalls() > 0, "the gateway answered: " + f);
        assertEquals(0, f.missing(), "acknowledged writes lost: " + f);
        assertEquals(0, f.leftRunning(), "eval rows left running after a restart: " + f);
        assertEquals(List.of(), f.integrity());
    }

    @Test
    void thirtyTwoClientsGetNoServerErrorAndTheHeapStaysFlat() throws Exception {
        CrashAndLoad.LoadFigures f = CrashAndLoad.load(32, Duration.ofSeconds(2), Duration.ofSeconds(5));
        System.out.println("CrashIT: " + f);
        assertTrue(f.requests() > 100, "requests: " + f);
        assertEquals(0, f.serverErrors(), "5xx answers: " + f);
        assertEquals(0, f.busy(), "SQLITE_BUSY reached a client: " + f);
        assertEquals(0, f.failures(), "requests without an answer: " + f);
        assertTrue(f.heapAfterMb() < f.heapBeforeMb() + 32, "heap grew: " + f);
    }
}
