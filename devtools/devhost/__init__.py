"""A development host for Python Function Apps on machines without Azure Functions Core Tools.

It loads `function_app.app` the way the Functions host indexes a v2 app (from `get_function_json()`), and
serves it with the host's trigger semantics: HTTP routes under `routePrefix` with auth levels, queue
triggers with base64 messages, batching, polling back-off, visibility timeouts and poison queues, timer
triggers, and the Event Grid webhook. It is not deployed.
"""
