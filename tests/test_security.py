"""Hardening: login throttling, headers, CSP, production settings."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from inmates.models import AccessLog

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}
    )


def test_five_wrong_passwords_lock_the_account_and_are_logged(client, rutan_blora_officer):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "rutan_blora", "salah-sandi")
    response = _login(client, "rutan_blora", "pemilu2024")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action="login_locked", target="rutan_blora").exists()


def test_a_correct_password_signs_in_before_the_limit(client, rutan_blora_officer):
    _login(client, "rutan_blora", "salah-sandi")
    response = _login(client, "rutan_blora", "pemilu2024")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(rutan_blora_officer.pk)


def test_pages_carry_security_headers_and_a_strict_csp(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("admin:index"))
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_sessions_suit_shared_computers():
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE <= 60 * 60


@pytest.mark.parametrize("weak", ["12345678901", "pemilu", "password123"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def _manage(*args, env):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a
    # production start never has it.
    base = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-secret-key-for-the-check-only-" + "x" * 40,
    "ALLOWED_HOSTS": "pemilih.example.go.id",
}


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {**PRODUCTION, missing: ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_static_files_are_served_by_whitenoise():
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
