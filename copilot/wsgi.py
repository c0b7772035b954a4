"""WSGI entry point (gunicorn copilot.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")

application = get_wsgi_application()
