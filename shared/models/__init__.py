"""pydantic models: the single description of every request, response, stored document and message."""
