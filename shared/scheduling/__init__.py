"""Provider quotas as a schedule: declared limits, lanes in Cosmos DB shared by every instance, the fair
line of waiting jobs, admission before a claim, the gate at the provider call."""
