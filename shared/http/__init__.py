"""Translating HTTP to typed calls and back: bodies, the error envelope, auth, URLs."""
