package scorebook.server;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Whether {@code serve} can listen where it was asked to, said in one line instead of the web server's stack trace. */
public final class Ports {
    private Ports() {
    }

    /** Fails with one clear line when the port is taken (port 0, any free port, always passes). */
    public static void checkFree(String host, int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            throw inUse(host, port);
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
    }

    public static IllegalStateException inUse(String host, int port) {
        return new IllegalStateException("port " + port + " on " + host + " is already in use; "
                + "pick another with --port N (or --port 0 for any free one)");
    }
}
