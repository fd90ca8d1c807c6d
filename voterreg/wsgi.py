"""WSGI entry point (gunicorn voterreg.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voterreg.settings")

application = get_wsgi_application()
