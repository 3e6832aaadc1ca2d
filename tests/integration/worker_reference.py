"""The reference for the dev host's parity test: the real Python worker fed the host's message, with no
dev host code in between.

`python -m tests.integration.worker_reference APP_DIR < cases.json > answers.json`, with the app's
settings in the environment. Each case is one HTTP request as it went over the wire (method, URL, every
header line, body, and the function and route parameters the route table gives). This module builds the
InvocationRequest from it by the rules the Functions host documents and implements (header names
lower-cased and repeated ones comma-joined, query values comma-joined and empty ones dropped, the body
only with a Content-Length above zero, as bytes since the worker asks for raw bytes), invokes
azure-functions-runtime directly and answers status, headers and body as the host would write them.
Only the message classes come from the dev host (the worker needs some; they carry no behaviour).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure_functions_runtime as runtime

from devtools.devhost.protocol import WorkerRequest, protos


def host_http_message(case: dict[str, Any]) -> Any:
    headers: dict[str, list[str]] = {}
    for name, value in case["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    query: dict[str, list[str]] = {}
    first_spelling: dict[str, str] = {}
    for name, value in parse_qsl(urlsplit(case["url"]).query, keep_blank_values=True):
        query.setdefault(first_spelling.setdefault(name.lower(), name), []).append(value)
    http = protos.RpcHttp(
        method=case["method"],
        url=case["url"],
        headers={name: ",".join(values) for name, values in headers.items()},
        query={name: ",".join(values) for name, values in query.items() if ",".join(values) != ""},
        params=case["params"],
        identities=[
            protos.RpcClaimsIdentity(
                name_claim_type=protos.NullableString(
                    value="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
                ),
                role_claim_type=protos.NullableString(
                    value="http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
                ),
            )
        ],
    )
    content_length = next((int(v[0]) for n, v in headers.items() if n == "content-length"), 0)
    if content_length > 0:
        http.body.bytes = base64.b64decode(case["body"])
    return protos.TypedData(http=http)


def as_host_answer(response: Any) -> dict[str, Any]:
    if response.result.status != protos.StatusResult.Success:
        return {"status": 500, "headers": [], "body": ""}
    http = response.return_value.http
    body_kind = http.body.WhichOneof("data")
    body = getattr(http.body, body_kind) if body_kind else b""
    return {
        "status": int(http.status_code or 200),
        "headers": sorted([name.lower(), value] for name, value in http.headers.items()),
        "body": base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode(),
    }


async def answer(app_dir: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sys.path.insert(0, str(app_dir))
    runtime.start_threadpool_executor()
    properties = {"protos": protos, "host": "127.0.0.1"}
    init = protos.WorkerInitRequest(function_app_directory=str(app_dir))
    await runtime.worker_init_request(
        WorkerRequest("WorkerInitRequest", protos.StreamingMessage(worker_init_request=init), properties)
    )
    listing = await runtime.functions_metadata_request(
        WorkerRequest("FunctionsMetadataRequest", protos.StreamingMessage())
    )
    ids = {f.name: f.function_id for f in listing.function_metadata_results}
    answers = []
    for case in cases:
        request = protos.InvocationRequest(
            invocation_id=str(uuid.uuid4()),
            function_id=ids[case["function"]],
            input_data=[protos.ParameterBinding(name="req", data=host_http_message(case))],
        )
        response = await runtime.invocation_request(
            WorkerRequest("InvocationRequest", protos.StreamingMessage(invocation_request=request))
        )
        answers.append(as_host_answer(response))
    runtime.stop_threadpool_executor()
    return answers


if __name__ == "__main__":
    print(json.dumps(asyncio.run(answer(Path(sys.argv[1]), json.load(sys.stdin)))))
