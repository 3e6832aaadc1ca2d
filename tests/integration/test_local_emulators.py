"""The local stack's emulators behave as the services they stand in for where the service's costs depend on
it (patches/README.md)."""

from __future__ import annotations

import http.client
import json

from devtools.stack.stack import LocalStack


def test_the_cosmos_emulator_keeps_a_connection_between_requests_as_cosmos_db_does(
    stack: LocalStack,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", stack.endpoints.cosmos_port, timeout=10)
    try:
        connection.request("GET", "/dbs")
        first = connection.getresponse()
        databases = json.loads(first.read())
        socket_used = connection.sock
        connection.request("GET", "/dbs")
        second = connection.getresponse()
        second.read()

        assert first.status == second.status == 200
        assert stack.settings.cosmos_database in {db["id"] for db in databases["Databases"]}
        assert first.getheader("connection") == "keep-alive"
        # The second request went over the first one's connection: the server did not close it.
        assert socket_used is not None and connection.sock is socket_used
    finally:
        connection.close()
