/**
 * The LLM gateway behind API keys: /ask, /ask_stream, /ask_batch, /warmup and the OpenAI-compatible /v1 endpoints.
 */
package scorebook.gateway;
