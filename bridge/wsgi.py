"""WSGI entry point for gunicorn (``bridge.wsgi:app``)."""

from bridge.process import start_process

settings = start_process()

from bridge.web.app import create_app  # noqa: E402 - after start_process chose the metrics mode

app = create_app(settings)
