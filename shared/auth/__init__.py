"""Who is calling: API keys, OIDC bearer tokens, App Service principals, and the scopes they carry."""
