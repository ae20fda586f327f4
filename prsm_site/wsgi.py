import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")
application = get_wsgi_application()

from executions.operations.queues import declaration_check_or_exit  # noqa: E402
from executions.operations.startup import startup_checks  # noqa: E402

declaration_check_or_exit("web process")  # refuses to start when its queues differ
startup_checks("web process")  # warns of an external Redis that may evict
