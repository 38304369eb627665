package scorebook.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The packaged jar as a real process over a data directory, which can be killed with SIGKILL and started again. */
public final class JarServer implements AutoCloseable {
    public static final Path JAR = Path.of(System.getProperty("scorebook.jar", "target/scorebook.jar")).toAbsolutePath();
    public static final String JAVA = System.getProperty("scorebook.java", ProcessHandle.current().info().command().orElse("java"));

    private final Process process;
    private final String base;

    private JarServer(Process process, String base) {
        this.process = process;
        this.base = base;
    }

    /** Starts {@code serve} on a free port with the owner token {@code token} and {@code evals} as the eval path. */
    public static JarServer start(Path data, Path evals, String token, String heap) {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-Xmx" + heap, "-jar", JAR.toString(), "serve", "--port", "0",
                "--data", data.toString(), "--evals", evals.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SCOREBOOK_TOKEN", token);
        try {
            Process p = pb.start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("Scorebook listening on ")) {
                p.destroyForcibly();
                throw new IllegalStateException("the jar did not start: " + line);
            }
            // keep reading stdout so the process never blocks on a full pipe
            Thread.ofVirtual().start(() -> {
                try {
                    while (out.readLine() != null) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            return new JarServer(p, line.substring("Scorebook listening on ".length()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String base() {
        return base;
    }

    public long pid() {
        return process.pid();
    }

    public Client client(String... headers) {
        return new Client(base, headers);
    }

    /** kill -9, and waits for the process to be gone. */
    public void kill9() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the server did not die");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Used heap after a full GC, in MB, read with the JDK's jcmd. */
    public double heapAfterFullGcMb() {
        String jcmd = Path.of(JAVA).resolveSibling("jcmd").toString();
        run(jcmd, String.valueOf(pid()), "GC.run");
        String info = run(jcmd, String.valueOf(pid()), "GC.heap_info");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
        if (!m.find()) {
            throw new IllegalStateException("no heap figure in: " + info);
        }
        return Long.parseLong(m.group(1)) / 1024.0;
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill9();
        }
    }
}
