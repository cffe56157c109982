"""The HTTP face of the bridge: the Flask app factory, the Commerce webhook and health checks."""
