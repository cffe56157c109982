"""What every long-running bridge process does first: gunicorn's master and its workers, and the pipeline worker.

Read ``.env`` and the settings, log JSON with every secret redacted, and point prometheus_client at the directory
the processes of this host share their metrics through. prometheus_client chooses its multiprocess mode when it
is first imported, so this runs before anything imports ``bridge.metrics``.
"""

from __future__ import annotations

import os
import sys

from bridge.logs import JsonFormatter, configure_logging
from bridge.settings import Settings, load_dotenv_file, load_settings

METRICS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_secrets: list[str] = []  # of this process's settings, for formatters built later by logging.config (gunicorn)


def start_process() -> Settings:
    """The checked settings of this process, its logging and its metrics directory set up; ConfigError if bad."""
    load_dotenv_file()
    settings = load_settings()
    _secrets[:] = settings.secrets
    configure_logging(settings.log_level, settings.secrets)
    share_metrics(settings)
    return settings


def share_metrics(settings: Settings) -> None:
    if "prometheus_client" in sys.modules and METRICS_DIRECTORY_VARIABLE not in os.environ:
        raise RuntimeError("prometheus_client was imported before the metrics directory was chosen")
    settings.metrics.directory.mkdir(parents=True, exist_ok=True)
    os.environ[METRICS_DIRECTORY_VARIABLE] = str(settings.metrics.directory)


def json_formatter() -> JsonFormatter:
    """The formatter gunicorn's own loggers get (its ``logconfig_dict``), redacting the same secrets."""
    return JsonFormatter(_secrets)
