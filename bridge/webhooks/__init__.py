"""Commerce webhook endpoints."""
