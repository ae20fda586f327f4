import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from workflows.tokens import api_token_create

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = (
        "Create the demo account (an ordinary user, not staff) on first run and print how "
        "to sign in."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        credentials = settings.VAR_DIR / "demo_credentials.txt"
        if User.objects.filter(username=DEMO_USERNAME).exists():
            where = f" (see {credentials})" if credentials.exists() else ""
            self.stdout.write(f"Demo account '{DEMO_USERNAME}' exists{where}.")
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(DEMO_USERNAME, password=password)
        team, _ = Group.objects.get_or_create(name="researchers")
        user.groups.add(team)
        key = api_token_create(user=user, name="demo").key
        text = (
            f"Sign in at {options['url']}accounts/login/\n"
            f"  username: {DEMO_USERNAME}\n  password: {password}\n"
            f"  API key:  {key}\n"
            f"'{DEMO_USERNAME}' is an ordinary user. For the admin ({options['url']}admin/),\n"
            "  make an administrator: .venv/bin/python manage.py createsuperuser\n"
        )
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(text)
        credentials.chmod(0o600)
        self.stdout.write("Demo account created.\n" + text)
