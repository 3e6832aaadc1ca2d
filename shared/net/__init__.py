"""Outbound network access: the SSRF-safe fetcher, and whether SDK clients read the proxy settings."""
