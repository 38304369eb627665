package scorebook.devices;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The health loop reloads the devices table each round; a device registered between its read and its load must
 * stay (else the registration answered 500 and the device went missing for a round, as MetricsBench found).
 */
class RegistryLoadTest {
    private static Device device(long id, String serial) {
        return new Device(id, 1, serial, "ollama", "push", null, "http://127.0.0.1:1", List.of("m"), 1, 1,
                "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", null, Device.DEFAULT_TAGS, Device.RUNNING);
    }

    @Test
    void aLoadOfAnOlderReadDoesNotDropADeviceRegisteredMeanwhile() {
        DeviceRegistry r = new DeviceRegistry();
        r.load(List.of(device(1, "a")));
        long version = r.version();
        List<Device> staleRead = List.of(device(1, "a"));
        r.put(device(2, "b"));
        assertFalse(r.loadIfUnchanged(staleRead, version));
        assertEquals(List.of("a", "b"), r.snapshots(1).stream().map(s -> s.device().serial()).toList());
        // a read taken after the change loads
        long next = r.version();
        assertTrue(r.loadIfUnchanged(List.of(device(2, "b")), next));
        assertEquals(List.of("b"), r.snapshots(1).stream().map(s -> s.device().serial()).toList());
    }
}
