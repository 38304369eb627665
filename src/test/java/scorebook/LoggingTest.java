package scorebook;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Log records go to stderr under the packaged logging configuration: stdout is what scripts read (the listening line
 * first). A native-library warning of sqlite-jdbc once came out before the listening line.
 */
class LoggingTest {
    @Test
    void aLogRecordGoesToStderrAndNothingToStdout() throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream seenOut = new ByteArrayOutputStream();
        ByteArrayOutputStream seenErr = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(seenOut, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(seenErr, true, StandardCharsets.UTF_8));
            configure(); // console handlers take the streams they find when they are made
            Logger.getLogger("scorebook.logging-test").warning("where does this go");
            for (Handler h : Logger.getLogger("").getHandlers()) {
                h.flush();
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
            configure();
        }
        assertEquals("", seenOut.toString(StandardCharsets.UTF_8));
        assertTrue(seenErr.toString(StandardCharsets.UTF_8).contains("WARNING scorebook.logging-test: where does this go"),
                seenErr.toString(StandardCharsets.UTF_8));
    }

    private static void configure() throws Exception {
        try (InputStream in = Main.class.getResourceAsStream("/logging.properties")) {
            LogManager.getLogManager().readConfiguration(in);
        }
    }
}
