package scorebook.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs a command-line entry point in-process with its console captured, as the command tests need. */
public final class Console {
    private Console() {
    }

    /** Its exit code, with everything it prints discarded. */
    public static int quietly(IntSupplier run) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream()));
            System.setErr(new PrintStream(new ByteArrayOutputStream()));
            return run.getAsInt();
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** What it prints on stdout; it must exit 0. */
    public static String output(IntSupplier run) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new ByteArrayOutputStream()));
            assertEquals(0, run.getAsInt());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
