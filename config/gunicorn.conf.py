"""gunicorn settings for the bridge (Procfile ``web``). Every value can be overridden from the environment."""

import os
import resource
import sys

from bridge.errors import ConfigError
from bridge.process import start_process

# The master reads the settings once, before it forks: its workers inherit the metrics directory and its own log
# lines are JSON with secrets redacted. A broken configuration is reported by on_starting, below.
try:
    start_process()
    _problem = None
except ConfigError as exc:
    _problem = exc

# PORT as platforms set it, 8000 otherwise; GUNICORN_CMD_ARGS="--bind ..." (e.g. 127.0.0.1 behind a local proxy)
# takes precedence over this file.
bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: every connection is a greenlet, so clients that send their request slowly (or never finish it) hold only
# their own greenlet, not one of a handful of threads. A slow client's time is bounded: its request head by
# ``keepalive`` (below; gunicorn's gevent worker gives up on a head not read by then), its body by
# BRIDGE_REQUEST_BODY_SECONDS (bridge.web.body_deadline). And there are connection slots to spare: 10,000 a worker,
# so that thousands of slow clients at once still leave room for Commerce's hooks. psycopg 3 cooperates with gevent
# by itself; SQLite (demo and development) blocks its worker while it waits for a lock.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "10000"))
# Every connection is a file descriptor: the soft limit is raised towards the hard one (which only root can raise),
# so that the slots above exist; gunicorn's workers inherit it.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
_wanted = workers * worker_connections + 256
if _soft != resource.RLIM_INFINITY and _soft < _wanted:
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (_wanted if _hard == resource.RLIM_INFINITY else min(_wanted, _hard), _hard)
    )
# A worker that stops answering its heartbeat for this long is restarted (hooks are answered within their budget).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The bridge logs every request itself (logger bridge.access); gunicorn's own lines go through the same JSON
# formatter, so the log is one JSON object per line throughout.
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "bridge.process.json_formatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False, "qualname": "gunicorn.error"},
    },
}


def on_starting(server):
    """Refuse to start with a broken configuration: one message listing every problem, no stack trace."""
    if _problem is not None:
        print(f"bridge: {_problem}", file=sys.stderr)
        sys.exit(2)
