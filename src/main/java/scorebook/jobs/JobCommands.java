package scorebook.jobs;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.AuthStore;
import scorebook.devices.Devices;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.server.Options;
import scorebook.store.Database;

/**
 * {@code scorebook job ...} and {@code scorebook dlq ...}: the jobs API on the data directory, with the
 * same rules (safe while a server runs on it; the server runs what is queued).
 * <pre>
 * scorebook job add --prompt P [--system S] [--model M] [--priority 0-9] [--tag QUEUE_TAG] [--device SERIAL]
 * scorebook job list [--state S] [--limit N]
 * scorebook job show ID
 * scorebook job cancel ID
 * scorebook dlq list
 * scorebook dlq requeue ID [--priority N] [--tag T] [--device S]
 * scorebook dlq delete ID
 *   all take [--user NAME] (default owner) and [--data DIR]
 * </pre>
 */
public final class JobCommands {
    static final String JOB_USAGE = """
            usage: scorebook job add --prompt P [--system S] [--model M] [--priority 0-9] [--tag QUEUE_TAG] [--device SERIAL]
                   scorebook job list [--state queued|running|retrying|done|failed|cancelled] [--limit N]
                   scorebook job show ID
                   scorebook job cancel ID
              all take [--user NAME] (default: the owner) and [--data DIR] (default: data)
            """;
    static final String DLQ_USAGE = """
            usage: scorebook dlq list                  failed jobs (the owner sees every user's)
                   scorebook dlq requeue ID [--priority N] [--tag QUEUE_TAG] [--device SERIAL]
                   scorebook dlq delete ID
              all take [--user NAME] (default: the owner) and [--data DIR] (default: data)
            """;

    private JobCommands() {
    }

    /** Runs {@code job ...} or {@code dlq ...}; returns the exit code. */
    public static int run(String noun, List<String> args) {
        String usage = noun.equals("job") ? JOB_USAGE : DLQ_USAGE;
        if (args.contains("--help") || args.contains("-h") || args.contains("help")) {
            System.out.print(usage);
            return 0;
        }
        Options o = Options.parse(args, Set.of("data", "user", "prompt", "system", "model", "priority", "tag", "device",
                "state", "limit"));
        List<String> words = o.positionals();
        if (words.isEmpty()) {
            System.err.print(usage);
            return 2;
        }
        try (Database db = Database.open(Path.of(o.get("data", "data")))) {
            String userName = o.get("user", "owner");
            AuthStore.User user = new AuthStore(db).userByName(userName)
                    .orElseThrow(() -> ApiException.notFound("no user named " + userName));
            WebhookStore webhooks = new WebhookStore(db);
            JobService jobs = new JobService(new JobStore(db, webhooks), webhooks, new Devices(db), MetricsSink.NONE,
                    Clock.systemUTC(), true);
            return noun.equals("job") ? job(jobs, user, words, o) : dlq(jobs, user, words, o);
        } catch (ApiException e) {
            System.err.println("scorebook: " + e.getMessage());
            return 1;
        }
    }

    private static int job(JobService jobs, AuthStore.User user, List<String> words, Options o) {
        switch (words.getFirst()) {
            case "add" -> {
                if (!o.has("prompt")) {
                    throw new IllegalArgumentException(JOB_USAGE);
                }
                ObjectNode body = Json.MAPPER.createObjectNode().put("prompt", o.get("prompt", null));
                copy(o, body, "system", "system");
                copy(o, body, "model", "model");
                copy(o, body, "tag", "queue_tag");
                copy(o, body, "device", "device_serial");
                if (o.has("priority")) {
                    body.put("priority", o.integer("priority", JobService.DEFAULT_PRIORITY, 0, JobService.MAX_PRIORITY));
                }
                Job j = jobs.enqueue(user.id(), body, null).job();
                System.out.println(j.jobId() + "\t" + j.state());
            }
            case "list" -> {
                JobService.Page page = jobs.list(user.id(), o.get("state", null), null, null, null, null,
                        o.get("limit", "50"));
                page.jobs().forEach(l -> line(l.job(), null));
            }
            case "show" -> {
                Job j = jobs.job(user.id(), argument(words, "job show ID"));
                System.out.println(pretty(j.record()));
                if (j.ended()) {
                    System.out.println(pretty(jobs.result(j, false)));
                }
            }
            case "cancel" -> {
                Job j = jobs.cancel(user.id(), argument(words, "job cancel ID"));
                System.out.println(j.jobId() + "\t" + (j.ended() ? j.state() : "cancel requested (running)"));
            }
            default -> throw new IllegalArgumentException("unknown verb 'job " + words.getFirst() + "'\n" + JOB_USAGE);
        }
        return 0;
    }

    private static int dlq(JobService jobs, AuthStore.User user, List<String> words, Options o) {
        switch (words.getFirst()) {
            case "list" -> jobs.list(user.isOwner() ? null : user.id(), Job.FAILED, null, null, null, null, "500").jobs()
                    .forEach(l -> line(l.job(), l.userName()));
            case "requeue" -> {
                ObjectNode body = Json.MAPPER.createObjectNode();
                copy(o, body, "tag", "queue_tag");
                copy(o, body, "device", "device_serial");
                if (o.has("priority")) {
                    body.put("priority", o.integer("priority", JobService.DEFAULT_PRIORITY, 0, JobService.MAX_PRIORITY));
                }
                Job j = jobs.requeue(user.id(), user.isOwner(), argument(words, "dlq requeue ID"), body);
                System.out.println(j.jobId() + "\t" + j.state());
            }
            case "delete" -> {
                Job j = jobs.delete(user.id(), user.isOwner(), argument(words, "dlq delete ID"));
                System.out.println(j.jobId() + "\tdeleted");
            }
            default -> throw new IllegalArgumentException("unknown verb 'dlq " + words.getFirst() + "'\n" + DLQ_USAGE);
        }
        return 0;
    }

    private static void line(Job j, String userName) {
        System.out.printf("%s\t%s\tpriority %d\t%s\t%s\tattempt %d/%d\t%s%s%s%n", j.jobId(), j.state(), j.priority(),
                j.queueTag(), j.model() == null ? "-" : j.model(), j.attempt(), j.maxAttempts(), j.enqueuedAt(),
                j.error() == null ? "" : "\t" + JobText.tree(j.error()).path("type").asText() + ": "
                        + JobText.tree(j.error()).path("message").asText(),
                userName == null ? "" : "\tuser " + userName);
    }

    private static void copy(Options o, ObjectNode body, String option, String field) {
        if (o.has(option)) {
            body.put(field, o.get(option, null));
        }
    }

    private static String pretty(Object value) {
        try {
            return Json.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return String.valueOf(value);
        }
    }

    private static String argument(List<String> words, String usage) {
        if (words.size() != 2) {
            throw new IllegalArgumentException("usage: scorebook " + usage);
        }
        return words.get(1);
    }
}
