"""One typed client per downstream service."""
