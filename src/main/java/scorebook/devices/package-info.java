/**
 * Model servers Scorebook calls (Ollama, OpenAI-compatible) and agents: registry, health and circuit breaker, routing, and Models, the one way every feature calls a model.
 */
package scorebook.devices;
