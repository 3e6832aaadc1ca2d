"""Development tools: the dev host, the provider simulator and the local stack. Never deployed."""
