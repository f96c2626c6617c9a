"""Local HTTP servers that speak real venue dialects, for tests on 127.0.0.1 (see README.md)."""
