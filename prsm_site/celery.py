"""The Celery app. Workers: ``celery -A prsm_site worker -Q default[,gpu,…]``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prsm_site.settings")

app = Celery("prsm_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
