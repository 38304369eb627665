package scorebook.jobs;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sends job events to callback URLs as Standard Webhooks: {@code webhook-id} (one per event, the same
 * on every retry), {@code webhook-timestamp} (unix seconds) and {@code webhook-signature}
 * ({@code v1,<base64 HMAC-SHA256 of "id.timestamp.body">}, one per signing secret, space-separated).
 * Any 2xx is delivered; 410 stops; anything else is tried again after 5 s, 5 min, 30 min, 2 h, 5 h and
 * 10 h (seven tries), or after the receiver's {@code Retry-After}.
 */
final class WebhookSender implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WebhookSender.class.getName());
    static final List<Duration> SCHEDULE = List.of(Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofMinutes(30),
            Duration.ofHours(2), Duration.ofHours(5), Duration.ofHours(10));
    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final Duration MAX_RETRY_AFTER = Duration.ofHours(24);
    private static final Duration TICK = Duration.ofMillis(500);

    private final JobService jobs;
    private final boolean allowPrivate;
    private final ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER).executor(senders).build();
    private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();
    private final Loop loop;

    WebhookSender(JobService jobs, boolean allowPrivate) {
        this.jobs = jobs;
        this.allowPrivate = allowPrivate;
        this.loop = new Loop("webhook-sender", jobs.callbacks(), TICK, this::sendDue);
    }

    void start() {
        loop.start();
    }

    /** Starts a send for every delivery that is due and not already on its way. */
    private void sendDue() {
        for (WebhookStore.Delivery d : jobs.webhooks().due(jobs.now(), 100)) {
            if (inFlight.add(d.id())) {
                senders.submit(() -> send(d));
            }
        }
    }

    private void send(WebhookStore.Delivery d) {
        try {
            long now = jobs.now();
            URI target = URI.create(d.url());
            if (!allowPrivate && resolvesPrivate(target.getHost())) {
                jobs.webhooks().tried(d.id(), "failed", now, null, "refused: " + target.getHost()
                        + " resolves to a loopback, link-local or private address", now);
                return;
            }
            String ts = Long.toString(now / 1000);
            List<String> signatures = new ArrayList<>();
            for (String secret : jobs.webhooks().secrets(d.userId(), now).signing(now)) {
                signatures.add("v1," + sign(secret, d.webhookId(), ts, d.body()));
            }
            HttpRequest req = HttpRequest.newBuilder(target).timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "Scorebook-Webhooks/1")
                    .header("webhook-id", d.webhookId())
                    .header("webhook-timestamp", ts)
                    .header("webhook-signature", String.join(" ", signatures))
                    .POST(HttpRequest.BodyPublishers.ofString(d.body(), StandardCharsets.UTF_8)).build();
            HttpResponse<Void> res;
            try {
                res = http.send(req, HttpResponse.BodyHandlers.discarding());
            } catch (IOException e) {
                retry(d, null, null, e.getClass().getSimpleName() + ": " + e.getMessage());
                return;
            }
            int status = res.statusCode();
            if (status >= 200 && status < 300) {
                jobs.webhooks().tried(d.id(), "delivered", jobs.now(), status, null, jobs.now());
            } else if (status == 410) {
                jobs.webhooks().tried(d.id(), "gone", jobs.now(), status, "410 Gone: the receiver wants no more", jobs.now());
            } else {
                retry(d, status, retryAfter(res.headers().firstValue("Retry-After").orElse(null)), "HTTP " + status);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "webhook " + d.webhookId() + " failed", e);
            retry(d, null, null, String.valueOf(e));
        } finally {
            inFlight.remove(d.id());
        }
    }

    private void retry(WebhookStore.Delivery d, Integer status, Duration retryAfter, String error) {
        long now = jobs.now();
        int tried = d.attempts() + 1;
        if (tried > SCHEDULE.size()) {
            jobs.webhooks().tried(d.id(), "failed", now, status, error, now);
            return;
        }
        Duration wait = retryAfter != null ? retryAfter : SCHEDULE.get(tried - 1);
        jobs.webhooks().tried(d.id(), "pending", now + wait.toMillis(), status, error, now);
    }

    /** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Duration d;
        try {
            d = Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip())));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME);
                d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                d = d.isNegative() ? Duration.ZERO : d;
            } catch (java.time.format.DateTimeParseException bad) {
                return null;
            }
        }
        return d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d;
    }

    private static boolean resolvesPrivate(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (JobService.privateAddress(a)) {
                    return true;
                }
            }
            return false;
        } catch (java.net.UnknownHostException e) {
            return false; // the send fails and is retried
        }
    }

    /** Base64 HMAC-SHA256 of {@code id.timestamp.body}, keyed by the base64 part of a {@code whsec_} secret. */
    static String sign(String secret, String id, String timestamp, String body) {
        try {
            byte[] key = Base64.getDecoder().decode(secret.startsWith("whsec_") ? secret.substring(6) : secret);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] sig = mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(sig);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    @Override
    public void close() {
        loop.close();
        senders.shutdownNow();
        http.close();
    }
}
