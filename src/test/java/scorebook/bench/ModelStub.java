package scorebook.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * An OpenAI-compatible model server that answers at once with canned bytes, run as a process of its own by the
 * benchmarks that measure what the server costs per model call: the tests' model server (the JDK's HTTP server
 * and Jackson, in the benchmark's JVM) took a third of the CPU the runner benchmark measured, which no real model
 * server costs Scorebook. {@code GET /v1/models} and {@code POST /v1/chat/completions} (plain, or streamed as
 * server-sent events with a usage chunk when the body asks {@code "stream":true}); HTTP/1.1 keep-alive, a virtual
 * thread per connection. Prints its port on its first line and ends when its standard input closes.
 */
public final class ModelStub implements AutoCloseable {
    private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};

    private final Process process;
    private final int port;

    private ModelStub(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts the stub in a new JVM (this one's java and classpath) serving {@code model}, answering {@code text}. */
    public static ModelStub start(String model, String text) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx64m", "-cp",
                System.getProperty("java.class.path"), ModelStub.class.getName(), model, text)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new String(readLine(p.getInputStream()), StandardCharsets.US_ASCII).trim();
        try {
            return new ModelStub(p, Integer.parseInt(line));
        } catch (NumberFormatException e) {
            p.destroyForcibly();
            throw new IOException("the model stub did not start: " + line, e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** CPU time the stub's process has used so far, ns. */
    public long cpuNanos() {
        return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    @Override
    public void close() throws Exception {
        process.getOutputStream().close();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    public static void main(String[] args) throws IOException {
        String model = args[0];
        String text = args[1];
        byte[] models = http("application/json", "{\"object\":\"list\",\"data\":[{\"id\":\"" + model + "\",\"object\":\"model\"}]}");
        String usage = "{\"prompt_tokens\":7,\"completion_tokens\":1,\"total_tokens\":8}";
        byte[] plain = http("application/json", "{\"id\":\"chatcmpl-stub\",\"object\":\"chat.completion\",\"created\":1700000000,"
                + "\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
                + text + "\"},\"finish_reason\":\"stop\"}],\"usage\":" + usage + "}");
        String chunk = "{\"id\":\"chatcmpl-stub\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"" + model
                + "\",\"choices\":%s%s}";
        List<String> events = List.of(
                String.format(Locale.ROOT, chunk, "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]", ""),
                String.format(Locale.ROOT, chunk, "[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]", ""),
                String.format(Locale.ROOT, chunk, "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]", ""),
                String.format(Locale.ROOT, chunk, "[]", ",\"usage\":" + usage),
                "[DONE]");
        StringBuilder sse = new StringBuilder();
        for (String e : events) {
            String data = "data: " + e + "\n\n";
            sse.append(Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length)).append("\r\n").append(data).append("\r\n");
        }
        sse.append("0\r\n\r\n");
        byte[] streamed = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + sse)
                .getBytes(StandardCharsets.UTF_8);
        byte[] notFound = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                .getBytes(StandardCharsets.UTF_8);
        try (ServerSocket server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress())) {
            System.out.println(server.getLocalPort());
            System.out.flush();
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    System.in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException e) {
                    // the benchmark is gone either way
                }
                System.exit(0);
            });
            while (true) {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s, models, plain, streamed, notFound));
            }
        }
    }

    private static byte[] http(String type, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return ("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " + b.length + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
    }

    private static void serve(Socket s, byte[] models, byte[] plain, byte[] streamed, byte[] notFound) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            s.setTcpNoDelay(true);
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
                byte[] body = in.readNBytes(contentLength(head));
                byte[] answer = path.equals("/v1/models") ? models
                        : path.equals("/v1/chat/completions") ? (contains(body, "\"stream\":true") ? streamed : plain) : notFound;
                out.write(answer);
                out.flush();
            }
        } catch (IOException e) {
            // the client closed the connection
        }
    }

    /** The request line and headers, or null at the end of the connection. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(512);
        int matched = 0;
        while (matched < CRLFCRLF.length) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = b == CRLFCRLF[matched] ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return 0;
    }

    private static boolean contains(byte[] body, String text) {
        return new String(body, StandardCharsets.UTF_8).contains(text);
    }

    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.write(b);
        }
        return line.toByteArray();
    }
}
