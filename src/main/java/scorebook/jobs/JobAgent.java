package scorebook.jobs;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;
import scorebook.server.Options;

/**
 * {@code scorebook agent}: a reference pull agent. It registers as an agent device with the user
 * token, then claims jobs (long-poll), runs each on a local Ollama or OpenAI-compatible server,
 * heartbeats its lease while the model works, and reports the output and metrics (or the failure).
 * It also sends the device heartbeat every 15 s, and stops when its answer says {@code terminate}. A phone or
 * board joins with one command:
 * <pre>
 * scorebook agent --server http://scorebook:8080 --token $T --model llama3.2 [--upstream http://127.0.0.1:11434]
 *                 [--kind ollama|openai] [--serial S] [--tag QUEUE_TAG]... [--once]
 * </pre>
 */
public final class JobAgent {
    static final String USAGE = """
            usage: scorebook agent --server URL --token USER_TOKEN --model M [--upstream URL] [--kind ollama|openai]
                                   [--serial S] [--tag QUEUE_TAG]... [--lease S] [--once]
              registers this machine as an agent (kind agent) and runs the jobs it claims on a local model server
              (default upstream: http://127.0.0.1:11434 for ollama, http://127.0.0.1:8000 for openai);
              --once stops after one job
            """;
    private static final int LEASE_S = 120;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String server;
    private final String model;
    private final String upstream;
    private final boolean ollama;
    private final String serial;
    private String deviceToken;
    /** The last device heartbeat's answer said "terminate": stop after the job at hand. */
    private volatile boolean terminate;

    private JobAgent(String server, String model, String upstream, boolean ollama, String serial) {
        this.server = server;
        this.model = model;
        this.upstream = upstream;
        this.ollama = ollama;
        this.serial = serial;
    }

    /** Runs the agent; returns the exit code. */
    public static int run(List<String> args) throws IOException, InterruptedException {
        if (args.contains("--help") || args.contains("-h")) {
            System.out.print(USAGE);
            return 0;
        }
        List<String> tags = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        boolean once = false;
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--tag") && i + 1 < args.size()) {
                tags.add(args.get(++i));
            } else if (args.get(i).equals("--once")) {
                once = true;
            } else {
                rest.add(args.get(i));
            }
        }
        Options o = Options.parse(rest, Set.of("server", "token", "model", "upstream", "kind", "serial"));
        if (!o.has("server") || !o.has("token") || !o.has("model")) {
            System.err.print(USAGE);
            return 2;
        }
        String kind = o.get("kind", "ollama");
        if (!kind.equals("ollama") && !kind.equals("openai")) {
            throw new IllegalArgumentException("--kind must be ollama or openai");
        }
        String upstream = strip(o.get("upstream", kind.equals("ollama") ? "http://127.0.0.1:11434" : "http://127.0.0.1:8000"));
        String serial = o.get("serial", InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._:@-]", "-"));
        JobAgent agent = new JobAgent(strip(o.get("server", null)), o.get("model", null), upstream, kind.equals("ollama"),
                serial);
        agent.register(o.get("token", null), tags);
        System.out.println("agent " + serial + " registered; waiting for jobs");
        System.out.flush();
        ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());
        beats.scheduleWithFixedDelay(agent::deviceHeartbeat, 0, 15, TimeUnit.SECONDS);
        try {
            do {
                if (agent.terminate) {
                    System.out.println("agent " + serial + ": the server asked it to stop (its user did, or another agent "
                            + "registered as " + serial + ")");
                    return 0;
                }
                int ran = agent.claimAndRun(beats);
                if (once && ran > 0) {
                    return 0;
                }
            } while (true);
        } finally {
            beats.shutdownNow();
        }
    }

    private static String strip(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private void register(String userToken, List<String> tags) throws IOException, InterruptedException {
        ObjectNode body = Json.MAPPER.createObjectNode().put("serial", serial).put("kind", "agent");
        body.putArray("models").add(model);
        if (!tags.isEmpty()) {
            ArrayNode t = body.putArray("queue_tags");
            tags.forEach(t::add);
        }
        HttpResponse<String> r = post("/devices/register", body, "X-User-Token", userToken);
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("registration failed: HTTP " + r.statusCode() + " " + r.body());
        }
        deviceToken = Json.MAPPER.readTree(r.body()).path("device_token").asText();
    }

    private void deviceHeartbeat() {
        try {
            ObjectNode body = Json.MAPPER.createObjectNode().put("ready", true);
            body.putArray("models").add(model);
            HttpResponse<String> r = post("/devices/" + serial + "/heartbeat", body, "X-Device-Token", deviceToken);
            if (r.statusCode() == 200 && "terminate".equals(Json.MAPPER.readTree(r.body()).path("state").asText())) {
                terminate = true; // "quiet" needs nothing here: the server gives a quiet agent no jobs
            }
        } catch (IOException e) {
            System.err.println("agent: heartbeat failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One long-poll claim and the jobs it gave; returns how many ran. */
    private int claimAndRun(ScheduledExecutorService beats) throws IOException, InterruptedException {
        ObjectNode claim = Json.MAPPER.createObjectNode().put("max_jobs", 1).put("wait_s", 30).put("lease_s", LEASE_S);
        HttpResponse<String> r = post("/worker/claim", claim, "X-Device-Token", deviceToken);
        if (r.statusCode() == 204) {
            return 0;
        }
        if (r.statusCode() != 200) {
            System.err.println("agent: claim failed: HTTP " + r.statusCode() + " " + r.body());
            Thread.sleep(5_000); // the server is away or refuses us: do not spin
            return 0;
        }
        JsonNode jobs = Json.MAPPER.readTree(r.body()).path("jobs");
        for (JsonNode job : jobs) {
            runJob(job, beats);
        }
        return jobs.size();
    }

    private void runJob(JsonNode job, ScheduledExecutorService beats) throws IOException, InterruptedException {
        String id = job.path("job_id").asText();
        String lease = job.path("lease_id").asText();
        ObjectNode leaseBody = Json.MAPPER.createObjectNode().put("lease_id", lease);
        ScheduledFuture<?> beat = beats.scheduleWithFixedDelay(() -> {
            try {
                post("/worker/jobs/" + id + "/heartbeat", leaseBody, "X-Device-Token", deviceToken);
            } catch (IOException e) {
                System.err.println("agent: job heartbeat failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, LEASE_S / 3, LEASE_S / 3, TimeUnit.SECONDS);
        try {
            ObjectNode result = call(job.path("request"));
            result.put("lease_id", lease);
            post("/worker/jobs/" + id + "/complete", result, "X-Device-Token", deviceToken);
            System.out.println("agent: " + id + " done");
        } catch (IOException | RuntimeException e) {
            ObjectNode fail = Json.MAPPER.createObjectNode().put("lease_id", lease);
            fail.putObject("error").put("type", "device_unreachable").put("message", String.valueOf(e.getMessage()))
                    .put("retryable", true);
            post("/worker/jobs/" + id + "/fail", fail, "X-Device-Token", deviceToken);
            System.out.println("agent: " + id + " failed: " + e.getMessage());
        } finally {
            beat.cancel(false);
        }
    }

    /** Runs the request on the local model server; returns {output, metrics, raw}. */
    private ObjectNode call(JsonNode request) throws IOException, InterruptedException {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("model", request.path("model").isTextual() ? request.path("model").asText() : model);
        ArrayNode messages = body.putArray("messages");
        if (request.path("system").isTextual() && !request.path("system").asText().isEmpty()) {
            messages.addObject().put("role", "system").put("content", request.path("system").asText());
        }
        messages.addObject().put("role", "user").put("content", request.path("prompt").asText());
        body.put("stream", false);
        if (request.path("options").isObject()) {
            if (ollama) {
                body.set("options", request.path("options"));
            } else {
                request.path("options").fields().forEachRemaining(e -> body.set(
                        e.getKey().equals("num_predict") ? "max_tokens" : e.getKey(), e.getValue()));
            }
        }
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(upstream
                        + (ollama ? "/api/chat" : "/v1/chat/completions"))).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.text(body))).build(), HttpResponse.BodyHandlers.ofString());
        double latency = (System.nanoTime() - start) / 1e6;
        if (r.statusCode() / 100 != 2) {
            throw new IOException("model server answered HTTP " + r.statusCode());
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ObjectNode metrics = out.putObject("metrics");
        metrics.put("latency_ms", Math.round(latency * 1000) / 1000.0);
        StringBuilder text = new StringBuilder();
        JsonNode last = null;
        for (String line : r.body().split("\n")) { // Ollama may stream NDJSON even when asked not to
            if (line.isBlank()) {
                continue;
            }
            last = Json.MAPPER.readTree(line);
            text.append(ollama ? last.path("message").path("content").asText("")
                    : last.path("choices").path(0).path("message").path("content").asText(""));
        }
        if (last == null) {
            throw new IOException("the model server sent an empty answer");
        }
        String doneReason = ollama ? last.path("done_reason").asText(null)
                : last.path("choices").path(0).path("finish_reason").asText(null);
        out.putObject("output").put("text", text.toString()).put("done_reason", doneReason);
        JsonNode prompt = ollama ? last.path("prompt_eval_count") : last.path("usage").path("prompt_tokens");
        JsonNode completion = ollama ? last.path("eval_count") : last.path("usage").path("completion_tokens");
        if (prompt.isIntegralNumber()) {
            metrics.put("prompt_tokens", prompt.asInt());
        }
        if (completion.isIntegralNumber()) {
            metrics.put("completion_tokens", completion.asInt());
            metrics.put("tok_s", Math.round(completion.asInt() * 1000.0 / Math.max(latency, 0.001) * 100) / 100.0);
        }
        out.set("raw", last);
        return out;
    }

    private HttpResponse<String> post(String path, JsonNode body, String header, String value)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(server + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").header(header, value)
                .POST(HttpRequest.BodyPublishers.ofString(Json.text(body))).build(), HttpResponse.BodyHandlers.ofString());
    }
}
