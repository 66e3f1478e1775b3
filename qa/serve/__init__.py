"""The bot served over HTTP: a JSON API, an OpenAI-compatible endpoint and a chat widget."""
