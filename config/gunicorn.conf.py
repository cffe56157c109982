"""gunicorn settings for the bridge (Procfile ``web``). Every value can be overridden from the environment."""

import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: every connection is a greenlet, so clients that send their request slowly (or never finish it) hold only
# their own greenlet, not one of a handful of threads; Commerce's hooks are answered whatever they do. psycopg 3
# cooperates with gevent by itself; SQLite (demo and development) blocks its worker while it waits for a lock.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# A worker that stops answering its heartbeat for this long is restarted (hooks are answered within their budget).
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
