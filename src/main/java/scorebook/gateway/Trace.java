package scorebook.gateway;

import java.io.IOException;
import java.net.URI;
import java.util.List;

import scorebook.devices.Chat;
import scorebook.devices.Device;
import scorebook.devices.DeviceRegistry;
import scorebook.devices.ModelReply;
import scorebook.devices.ModelRequest;
import scorebook.server.ApiException;

/**
 * {@code POST /ask_trace}: one call told as it happens, in {@code text/plain}. {@code #} lines say which model
 * servers could take it and in what state, which one was chosen and why, the model and the upstream URL
 * (without credentials); then the answer's text as it streams; then {@code # done} with the timings. The
 * lines before the answer are held until the first token, so a call that fails before answering still gets
 * the JSON error and status of {@code /ask}.
 */
final class Trace {
    private final Relay relay;
    private final ModelRequest request;
    private final List<DeviceRegistry.Snapshot> candidates;
    private final StringBuilder held = new StringBuilder();
    private int chosen;
    private boolean endsInNewline = true;

    Trace(Relay relay, ModelRequest request, List<DeviceRegistry.Snapshot> mine) {
        this.relay = relay;
        this.request = request;
        this.candidates = mine.stream().filter(s -> s.device().push()
                && (request.deviceSerial() == null || s.device().serial().equals(request.deviceSerial()))).toList();
        line("# model=" + (request.model() == null ? "(none asked: the chosen device's first model)" : request.model()));
        line("# candidates=" + candidates.size() + (request.deviceSerial() == null ? " (your model servers)"
                : " (device_serial " + request.deviceSerial() + ")"));
        for (DeviceRegistry.Snapshot s : candidates) {
            line("# candidate " + describe(s));
        }
    }

    /** One candidate's state as routing sees it. */
    private String describe(DeviceRegistry.Snapshot s) {
        Device d = s.device();
        return d.serial() + " kind=" + d.kind()
                + " healthy=" + s.healthy() + (s.healthy() ? "" : " (" + oneLine(s.reason()) + ")")
                + " circuit=" + (s.circuitOpen() ? "open until " + s.openUntil() : "closed")
                + " inflight=" + s.inflight() + "/" + d.maxConcurrency()
                + " weight=" + d.weight()
                + " serves_model=" + s.serves(request.model());
    }

    /** The listener for the device routing chose (called again when a first device failed before answering). */
    Chat.Listener chosen(Device d) {
        if (chosen++ > 0) {
            line("# the previous device failed before answering; routing chose another");
        }
        String why = request.deviceSerial() != null ? "named by device_serial"
                : "smooth weighted round-robin over the candidates that are healthy, have a closed circuit, a free slot "
                + "and serve the model";
        line("# selected " + d.serial() + " (" + why + ")");
        if (request.model() == null) {
            candidates.stream().filter(s -> s.device().id() == d.id()).findFirst()
                    .ifPresent(s -> line("# model=" + s.defaultModel() + " (the device's first model)"));
        }
        line("# upstream POST " + upstream(d) + (d.hasApiKey() ? " (with the device's API key, not shown)" : ""));
        line("# posting…");
        return (delta, raw, parsed) -> {
            if (!delta.isEmpty()) {
                flush();
                write(delta);
            }
        };
    }

    /** The end: the timings (milliseconds) and token counts. */
    void done(ModelReply r) throws IOException {
        flush();
        Double tokS = r.decodeTokS() != null ? r.decodeTokS()
                : r.completionTokens() == null || r.latencyMs() <= 0 ? null
                : Math.round(r.completionTokens() * 1000.0 / r.latencyMs() * 10) / 10.0;
        write((endsInNewline ? "" : "\n") + "# done ok=true id=" + r.id() + " device=" + r.device() + " model=" + r.model()
                + " ttft_ms=" + r.ttftMs() + " total_ms=" + r.latencyMs() + " prompt_tokens=" + r.promptTokens()
                + " completion_tokens=" + r.completionTokens() + " tok_s=" + tokS
                + " done_reason=" + r.doneReason() + "\n");
    }

    /** A failure after the answer began: said in the stream, whose status is already 200. */
    void failed(ApiException e) throws IOException {
        write((endsInNewline ? "" : "\n") + "# error " + e.code() + ": " + oneLine(e.getMessage()) + "\n# done ok=false\n");
    }

    boolean started() {
        return relay.started();
    }

    private void line(String text) {
        held.append(text).append('\n');
    }

    private void flush() throws IOException {
        if (!held.isEmpty()) {
            String text = held.toString();
            held.setLength(0);
            write(text);
        }
    }

    private void write(String text) throws IOException {
        relay.write(text);
        endsInNewline = text.endsWith("\n");
    }

    /** The URL a call goes to, without user info, query or fragment (where credentials could hide). */
    static String upstream(Device d) {
        String path = "openai".equals(d.kind()) ? "/v1/chat/completions" : "/api/chat";
        try {
            URI u = URI.create(d.baseUrl());
            return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort())
                    + (u.getRawPath() == null ? "" : u.getRawPath()) + path;
        } catch (IllegalArgumentException e) {
            return "(unparsable base URL)";
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\r', ' ').replace('\n', ' ');
    }
}
