"""The local stack: Azurite behind the Event Grid front end, the Cosmos DB emulator, the provider
simulator and the dev host, started together on loopback by `make dev` and by the integration tests."""
