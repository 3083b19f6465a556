"""The BFF's API for the web client: routing, aggregation, caching and protection."""
