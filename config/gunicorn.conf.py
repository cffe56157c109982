"""gunicorn settings for the bridge (Procfile ``web``). Every value can be overridden from the environment."""

import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Commerce waits at most the hook's timeout; a stuck request must not hold a worker for longer than that.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") else None
errorlog = "-"


def on_starting(server):
    """Refuse to start with a broken configuration: one message listing every problem, no stack trace."""
    from bridge.errors import ConfigError
    from bridge.settings import load_settings

    try:
        load_settings()
    except ConfigError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        sys.exit(2)
