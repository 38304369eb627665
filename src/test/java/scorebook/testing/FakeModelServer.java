package scorebook.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import scorebook.server.Json;

/**
 * A small model server for the tests, on a free port: speaks Ollama's API ({@code /api/chat},
 * {@code /api/tags}, streamed as NDJSON) or OpenAI's ({@code /v1/chat/completions} with and without
 * server-sent events, {@code /v1/models}). It answers with fixed tokens and can be told to be slow,
 * to fail in various ways, or to hold its stream after the first token until the test releases it.
 */
public final class FakeModelServer implements AutoCloseable {
    /** Which API it speaks. */
    public enum Kind { OLLAMA, OPENAI }

    /** How a chat call goes wrong. */
    public enum Failure {
        /** It does not. */
        NONE,
        /** 500 with a JSON error. */
        HTTP_500,
        /** 200 with a body that is not JSON. */
        MALFORMED,
        /** 200 with a body larger than the gateway's cap. */
        HUGE,
        /** 404 as for an unknown model. */
        HTTP_404,
        /** The first token, then an error event in the stream. */
        MID_STREAM
    }

    static {
        // like real model servers (Go, uvicorn), send small streamed writes at once
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** Prompt tokens it reports for every call. */
    public static final int PROMPT_TOKENS = 7;

    private final Kind kind;
    private final HttpServer server;
    private final AtomicInteger chats = new AtomicInteger();
    private final ConcurrentLinkedQueue<JsonNode> requests = new ConcurrentLinkedQueue<>();
    private volatile List<String> models;
    private volatile List<String> tokens = List.of("Hello", " world", "!");
    private volatile Failure failure = Failure.NONE;
    private volatile boolean healthFails;
    private volatile boolean usageOnLastChunk;
    private volatile long delayMs;
    private volatile long tokenDelayMs;
    private volatile CountDownLatch hold;
    private volatile CountDownLatch firstTokenSent = new CountDownLatch(1);
    private volatile long firstTokenSentNs;
    private volatile String requiredKey;
    private final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();

    private FakeModelServer(Kind kind, List<String> models) {
        this.kind = kind;
        this.models = models;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    public static FakeModelServer ollama(String... models) {
        return new FakeModelServer(Kind.OLLAMA, List.of(models));
    }

    public static FakeModelServer openai(String... models) {
        return new FakeModelServer(Kind.OPENAI, List.of(models));
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public Kind kind() {
        return kind;
    }

    public FakeModelServer tokens(String... t) {
        tokens = List.of(t);
        return this;
    }

    public FakeModelServer failure(Failure f) {
        failure = f;
        return this;
    }

    public FakeModelServer healthFails(boolean fails) {
        healthFails = fails;
        return this;
    }

    /** Answers 401 to every call (health checks too) without {@code Authorization: Bearer KEY}, as vLLM --api-key does. */
    public FakeModelServer requireApiKey(String key) {
        requiredKey = key;
        return this;
    }

    /** The Authorization headers received, oldest first ("" for a request without one). */
    public List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    /** Streams its usage on the finish chunk instead of a chunk of its own, as some OpenAI-compatible servers do. */
    public FakeModelServer usageOnLastChunk() {
        usageOnLastChunk = true;
        return this;
    }

    /** Waits this long before answering a chat call. */
    public FakeModelServer delay(long ms) {
        delayMs = ms;
        return this;
    }

    /** Waits this long between streamed tokens. */
    public FakeModelServer tokenDelay(long ms) {
        tokenDelayMs = ms;
        return this;
    }

    /** Streams the first token, then waits for {@link #release} before the rest. */
    public FakeModelServer holdAfterFirstToken() {
        hold = new CountDownLatch(1);
        firstTokenSent = new CountDownLatch(1);
        return this;
    }

    public void release() {
        CountDownLatch h = hold;
        if (h != null) {
            h.countDown();
        }
    }

    /** Waits until a stream's first token has been written and flushed. */
    public boolean awaitFirstTokenSent() throws InterruptedException {
        return firstTokenSent.await(Wait.DEADLINE.toSeconds(), TimeUnit.SECONDS);
    }

    /** When the last stream's first token was written and flushed ({@link System#nanoTime}). */
    public long firstTokenSentNs() {
        return firstTokenSentNs;
    }

    public int chats() {
        return chats.get();
    }

    /** The chat request bodies received, oldest first. */
    public List<JsonNode> requests() {
        return List.copyOf(requests);
    }

    public JsonNode lastRequest() {
        List<JsonNode> all = requests();
        return all.isEmpty() ? null : all.getLast();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            byte[] in;
            try (InputStream body = ex.getRequestBody()) {
                in = body.readAllBytes();
            }
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            authorizations.add(auth == null ? "" : auth);
            if (requiredKey != null && !("Bearer " + requiredKey).equals(auth)) {
                send(ex, 401, "application/json", "{\"error\":{\"message\":\"missing or wrong API key\"}}");
                return;
            }
            if (kind == Kind.OLLAMA && path.equals("/api/tags") || kind == Kind.OPENAI && path.equals("/v1/models")) {
                health(ex);
            } else if (kind == Kind.OLLAMA && path.equals("/api/chat") || kind == Kind.OPENAI && path.equals("/v1/chat/completions")) {
                JsonNode req = Json.MAPPER.readTree(in);
                requests.add(req);
                chats.incrementAndGet();
                chat(ex, req);
            } else {
                send(ex, 404, "application/json", "{\"error\":\"not found\"}");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void health(HttpExchange ex) throws IOException {
        if (healthFails) {
            send(ex, 500, "application/json", "{\"error\":\"health check failed on purpose\"}");
            return;
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        if (kind == Kind.OLLAMA) {
            ArrayNode list = out.putArray("models");
            models.forEach(m -> list.addObject().put("name", m).put("model", m));
        } else {
            out.put("object", "list");
            ArrayNode list = out.putArray("data");
            models.forEach(m -> list.addObject().put("id", m).put("object", "model"));
        }
        send(ex, 200, "application/json", Json.text(out));
    }

    private void chat(HttpExchange ex, JsonNode req) throws IOException, InterruptedException {
        if (delayMs > 0) {
            Thread.sleep(delayMs);
        }
        switch (failure) {
            case HTTP_500 -> {
                send(ex, 500, "application/json", "{\"error\":\"model crashed on purpose\"}");
                return;
            }
            case HTTP_404 -> {
                send(ex, 404, "application/json", "{\"error\":\"model '" + req.path("model").asText() + "' not found\"}");
                return;
            }
            case MALFORMED -> {
                send(ex, 200, "application/json", "{\"this is\": not json");
                return;
            }
            case HUGE -> {
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, 0);
                OutputStream out = ex.getResponseBody();
                byte[] junk = new byte[1024 * 1024];
                java.util.Arrays.fill(junk, (byte) 'x');
                try {
                    out.write("{\"pad\":\"".getBytes(StandardCharsets.UTF_8));
                    for (int i = 0; i < 20; i++) {
                        out.write(junk);
                    }
                    out.write("\"}".getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // the gateway stopped reading: as it should
                }
                return;
            }
            default -> {
            }
        }
        String model = req.path("model").asText();
        boolean stream = kind == Kind.OLLAMA ? req.path("stream").asBoolean(true) : req.path("stream").asBoolean(false);
        if (kind == Kind.OLLAMA) {
            ollama(ex, model, stream);
        } else {
            openai(ex, model, stream, req.path("stream_options").path("include_usage").asBoolean(false));
        }
    }

    private void ollama(HttpExchange ex, String model, boolean stream) throws IOException, InterruptedException {
        ObjectNode last = Json.MAPPER.createObjectNode();
        last.put("model", model);
        last.put("created_at", "2026-11-22T00:00:00Z");
        last.putObject("message").put("role", "assistant").put("content", stream ? "" : String.join("", tokens));
        last.put("done_reason", "stop");
        last.put("done", true);
        last.put("total_duration", 900_000_000L);
        last.put("load_duration", 100_000_000L);
        last.put("prompt_eval_count", PROMPT_TOKENS);
        last.put("prompt_eval_duration", 70_000_000L);
        last.put("eval_count", tokens.size());
        last.put("eval_duration", 300_000_000L);
        if (!stream) {
            send(ex, 200, "application/json", Json.text(last));
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        for (int i = 0; i < tokens.size(); i++) {
            if (i == 1 && failure == Failure.MID_STREAM) {
                line(out, "{\"error\":\"out of memory on purpose\"}\n", -1);
                return;
            }
            ObjectNode chunk = Json.MAPPER.createObjectNode();
            chunk.put("model", model);
            chunk.put("created_at", "2026-11-22T00:00:00Z");
            chunk.putObject("message").put("role", "assistant").put("content", tokens.get(i));
            chunk.put("done", false);
            line(out, Json.text(chunk) + "\n", i);
        }
        line(out, Json.text(last) + "\n", -1);
    }

    private void openai(HttpExchange ex, String model, boolean stream, boolean includeUsage) throws IOException, InterruptedException {
        String id = "chatcmpl-fake" + chats.get();
        ObjectNode usage = Json.MAPPER.createObjectNode();
        usage.put("prompt_tokens", PROMPT_TOKENS);
        usage.put("completion_tokens", tokens.size());
        usage.put("total_tokens", PROMPT_TOKENS + tokens.size());
        if (!stream) {
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("id", id);
            o.put("object", "chat.completion");
            o.put("created", 1_700_000_000L);
            o.put("model", model);
            o.put("system_fingerprint", "fake-openai");
            ObjectNode choice = o.putArray("choices").addObject();
            choice.put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", String.join("", tokens));
            choice.put("finish_reason", "stop");
            o.set("usage", usage);
            send(ex, 200, "application/json", Json.text(o));
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        line(out, "data: " + Json.text(chunk(id, model, null, true, null)) + "\n\n", -2);
        for (int i = 0; i < tokens.size(); i++) {
            if (i == 1 && failure == Failure.MID_STREAM) {
                line(out, "data: {\"error\":{\"message\":\"out of memory on purpose\"}}\n\n", -1);
                return;
            }
            line(out, "data: " + Json.text(chunk(id, model, tokens.get(i), false, null)) + "\n\n", i);
        }
        ObjectNode finish = chunk(id, model, null, false, "stop");
        if (usageOnLastChunk) {
            finish.set("usage", usage);
        }
        line(out, "data: " + Json.text(finish) + "\n\n", -1);
        if (includeUsage && !usageOnLastChunk) {
            ObjectNode u = Json.MAPPER.createObjectNode();
            u.put("id", id);
            u.put("object", "chat.completion.chunk");
            u.put("created", 1_700_000_000L);
            u.put("model", model);
            u.putArray("choices");
            u.set("usage", usage);
            line(out, "data: " + Json.text(u) + "\n\n", -1);
        }
        line(out, "data: [DONE]\n\n", -1);
    }

    private static ObjectNode chunk(String id, String model, String content, boolean role, String finish) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("object", "chat.completion.chunk");
        o.put("created", 1_700_000_000L);
        o.put("model", model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (role) {
            delta.put("role", "assistant").put("content", "");
        }
        if (content != null) {
            delta.put("content", content);
        }
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return o;
    }

    /** Writes one streamed line; token index 0 is the first token (then the hold applies). */
    private void line(OutputStream out, String text, int tokenIndex) throws IOException, InterruptedException {
        if (tokenIndex > 0 && tokenDelayMs > 0) {
            Thread.sleep(tokenDelayMs);
        }
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        if (tokenIndex == 0) {
            firstTokenSentNs = System.nanoTime();
            firstTokenSent.countDown();
            CountDownLatch h = hold;
            if (h != null) {
                h.await(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
