package scorebook.runner;

import java.time.Duration;

import scorebook.devices.ModelRequest;
import scorebook.devices.Models;
import scorebook.server.ApiException;

/** The runner's models through the devices' {@link Models}: routed, retried and recorded as usage. */
public final class GatewayModels implements ModelCaller {
    private final Models models;

    public GatewayModels(Models models) {
        this.models = models;
    }

    @Override
    public String complete(long userId, String source, String model, String system, String prompt, double timeoutSeconds) {
        try {
            return models.call(userId, null, ModelRequest.of(system, prompt).withModel(model).withSource(source)
                    .withTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000)))).content();
        } catch (ApiException e) {
            throw new ModelException("model " + model + ": " + e.getMessage());
        }
    }
}
