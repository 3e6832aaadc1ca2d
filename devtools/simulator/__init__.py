"""A loopback stand-in for Gemini and Azure OpenAI that the real SDKs talk to unchanged.

It answers with real images of the asked size, visibly derived from the prompt (or, in edit mode, from the
reference image), records every request for tests to inspect, and injects faults on demand.
"""
