"""WSGI entry point for gunicorn (``bridge.wsgi:app``)."""

from bridge.app import create_app
from bridge.config import load_settings
from bridge.logs import configure_logging

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(settings)
