/**
 * Jobs: a persistent queue of prompt jobs run on devices, by the server's own dispatcher (push
 * devices) or by agents that pull them (kind agent), with leases, retries with backoff, a
 * dead-letter queue per user, and signed callbacks.
 */
package scorebook.jobs;
