-- An optional credential for model servers that need one (vLLM --api-key, LM Studio with auth, a hosted
-- OpenAI-compatible endpoint): sent upstream as "Authorization: Bearer <api_key>" on every call and health
-- check. Kept as given, since it must be sent as given; no endpoint, log line or command prints it back
-- (GET /devices shows only has_api_key).
ALTER TABLE devices ADD COLUMN api_key TEXT;
