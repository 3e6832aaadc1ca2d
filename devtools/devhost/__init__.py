"""A development host for Python Function Apps on machines without Azure Functions Core Tools.

It does what the Functions host does and hands every function to the real Python worker
(`azure-functions-runtime`, in process, with the host's protocol messages): the worker indexes the app
and runs each invocation. The host part serves HTTP routes under `routePrefix` with auth levels and keys,
queue triggers (batching, randomized polling back-off, lease renewal, visibility timeouts, poison
queues, base64 or raw messages), timer triggers and the Event Grid webhook, configured by host.json. It
is not deployed.
"""
