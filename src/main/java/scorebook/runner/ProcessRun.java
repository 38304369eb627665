package scorebook.runner;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one external program: bytes on stdin, stdout and stderr drained while it runs, the whole
 * process tree killed on timeout or when the calling thread is interrupted (a stop).
 */
final class ProcessRun {
    static final int MAX_STDOUT = 16 * 1024 * 1024;
    private static final int STDERR_TAIL = 2000;

    /** How it ended. {@code timedOut} and {@code overflowed} runs have no meaningful exit code. */
    record Result(int exitCode, String stdout, String stderrTail, boolean timedOut, boolean overflowed, double seconds) {
        /** An error message when the run did not succeed, else null. */
        String failure(double timeoutSeconds) {
            if (timedOut) {
                return "timed out after " + format(timeoutSeconds) + "s; the process tree was killed";
            }
            if (overflowed) {
                return "the command printed more than " + MAX_STDOUT / 1024 / 1024 + " MiB";
            }
            if (exitCode != 0) {
                return "exit code " + exitCode + (stderrTail.isBlank() ? "" : ":\n" + stderrTail.strip());
            }
            return null;
        }
    }

    private ProcessRun() {
    }

    static Result run(List<String> command, Path dir, Map<String, String> env, byte[] stdin, double timeoutSeconds)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        Drain out = new Drain(p.getInputStream(), MAX_STDOUT);
        Drain err = new Drain(p.getErrorStream(), 1024 * 1024);
        try {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // the program may not read its stdin; that is its business
            }
            if (!p.waitFor((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS)) {
                killTree(p);
                return new Result(-1, "", "", true, false, seconds(start));
            }
            double seconds = seconds(start);
            String tail = err.text();
            tail = tail.length() > STDERR_TAIL ? "…" + tail.substring(tail.length() - STDERR_TAIL) : tail;
            return new Result(p.exitValue(), out.text(), tail, false, out.overflowed, seconds);
        } catch (InterruptedException e) {
            killTree(p);
            throw e;
        }
    }

    /** Kills the process and everything it started, children first so none is left orphaned. */
    static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    static String format(double seconds) {
        return seconds == Math.rint(seconds) ? String.valueOf((long) seconds) : String.valueOf(seconds);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Reads a stream to its end on a virtual thread, keeping at most {@code max} bytes. */
    private static final class Drain {
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final Thread thread;
        private volatile boolean overflowed;

        Drain(InputStream in, int max) {
            this.thread = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(chunk)) > 0) {
                        synchronized (buffer) {
                            if (buffer.size() + n <= max) {
                                buffer.write(chunk, 0, n);
                            } else {
                                overflowed = true;
                            }
                        }
                    }
                } catch (IOException e) {
                    // the process went away; keep what was read
                }
            });
        }

        String text() throws InterruptedException {
            thread.join(2000);
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
