"""WSGI entry point for gunicorn (``bridge.wsgi:app``)."""

from bridge.logs import configure_logging
from bridge.settings import load_dotenv_file, load_settings
from bridge.web.app import create_app

load_dotenv_file()
settings = load_settings()
configure_logging(settings.log_level, settings.secrets)
app = create_app(settings)
