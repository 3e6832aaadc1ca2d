"""Image providers. Only `catalog` and `base` may be imported on the HTTP path: the provider modules import
their SDKs (google-genai, openai), which the submit path must not pay for."""
