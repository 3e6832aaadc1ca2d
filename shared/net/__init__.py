"""Outbound network access: the SSRF-safe fetcher."""
