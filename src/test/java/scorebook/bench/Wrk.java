package scorebook.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Requests per second measured by wrk (the Debian package) from its own process: a load client inside the
 * benchmark's JVM parses every answer with Java code and took as much CPU as the server it measured, on a machine
 * of two cores. Each request asks {@code url} with {@code &offset=} a random number below {@code offsets}.
 */
final class Wrk {
    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern ERRORS = Pattern.compile("Non-2xx or 3xx responses: (\\d+)|Socket errors: .*");

    private Wrk() {
    }

    /** Whether wrk is on the PATH. */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs wrk with {@code connections} connections for {@code seconds} and answers its requests per second. */
    static double rate(String url, String bearer, int offsets, int connections, int seconds) throws Exception {
        Path script = Files.createTempFile("scorebook-wrk", ".lua");
        try {
            Files.writeString(script, """
                    wrk.headers["Authorization"] = "Bearer %s"
                    math.randomseed(7)
                    request = function()
                      return wrk.format("GET", wrk.path .. "&offset=" .. math.random(0, %d))
                    end
                    """.formatted(bearer, offsets - 1));
            Process p = new ProcessBuilder("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "-s", script.toString(), url)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("wrk failed: " + out);
            }
            if (ERRORS.matcher(out).find()) {
                throw new IllegalStateException("wrk saw failed requests: " + out);
            }
            Matcher m = RATE.matcher(out);
            if (!m.find()) {
                throw new IllegalStateException("no rate in wrk's output: " + out);
            }
            return Double.parseDouble(m.group(1));
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
