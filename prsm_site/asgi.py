"""ASGI entry point: Django for HTTP, Channels for the live-event websockets.

Serve with ``daphne prsm_site.asgi:application`` (``manage.py runserver`` does
this too, since ``daphne`` is an installed app). Websocket handshakes pass the
Origin check (browsers must come from our own pages; clients without ``Origin``
are not browsers and go on to authenticate), then session or API-token
authentication (``prsm_site.ws_auth``), then the URL router. Importing it checks
this process's queues against the deployment's (``executions.operations.queues``).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")
# Set Django up before importing anything that imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from executions import routing  # noqa: E402
from executions.operations.queues import declaration_check_or_exit  # noqa: E402
from executions.operations.startup import startup_checks  # noqa: E402
from prsm_site.ws_auth import AllowedOriginsValidator, WebsocketAuthStack  # noqa: E402

# A web process whose queues differ from the deployment's refuses to start.
declaration_check_or_exit("web process")
startup_checks("web process")  # warns of an external Redis that may evict

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedOriginsValidator(
            WebsocketAuthStack(URLRouter(routing.websocket_urlpatterns))
        ),
    }
)
