"""Talking to a Responses API: protocol models, HTTP client, retries, SSE, dialects."""
