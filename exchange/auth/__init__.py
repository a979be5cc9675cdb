"""People (session sign-in, roles) and programs (OAuth2 clients, bearer tokens, scopes)."""
