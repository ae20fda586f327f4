"""ASGI entry point. Websocket routing arrives with the engine's live events."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")
application = get_asgi_application()
