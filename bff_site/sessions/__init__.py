"""Browser sessions of the BFF: OIDC login at Identity, tokens kept server-side."""
