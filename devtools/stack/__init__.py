"""The local stack: Azurite, the Cosmos DB emulator, the provider simulator and the dev host, started
together on loopback by `make dev` and by the integration tests."""
