"""Webhooks: URL rules at submit, signed deliveries from a queue-triggered function, per-tenant secrets."""
