import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from qike.core.models import Corp

pytestmark = pytest.mark.django_db


def test_corp_add_generates_callback_credentials_and_prints_them(settings):
    settings.QIKE_PUBLIC_URL = "https://qike.example.com"
    out = StringIO()
    call_command(
        "corp",
        "add",
        "--corpid",
        "ww1",
        "--secret",
        "s3cr3t",
        "--base-url",
        "http://127.0.0.1:8800",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert printed["callback_url"] == "https://qike.example.com/wecom/callback/ww1/"
    assert len(printed["encoding_aes_key"]) == 43
    corp = Corp.objects.get(corpid="ww1")
    assert corp.encoding_aes_key == printed["encoding_aes_key"]
    assert corp.secret == "s3cr3t"


def test_secrets_are_encrypted_at_rest():
    call_command(
        "corp",
        "add",
        "--corpid",
        "ww2",
        "--secret",
        "plain-secret-value",
        "--base-url",
        "http://sim.example.com",
        "--token",
        "tok123",
        "--aes-key",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        stdout=StringIO(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, callback_token, encoding_aes_key FROM core_corp WHERE corpid = 'ww2'"
        )
        raw = cursor.fetchone()
    assert "plain-secret-value" not in raw[0]
    assert "tok123" not in raw[1]
    assert "jWmYm7" not in raw[2]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--token", "only-token"], "go together"),
        (
            ["--token", "bad token!", "--aes-key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"],
            "letters or digits",
        ),
        (["--token", "t", "--aes-key", "short"], "43"),
    ],
)
def test_bad_corp_input_is_refused_and_nothing_saved(extra, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "corp",
            "add",
            "--corpid",
            "ww3",
            "--secret",
            "s",
            "--base-url",
            "http://sim.example.com",
            *extra,
            stdout=StringIO(),
        )
    assert not Corp.objects.filter(corpid="ww3").exists()


def test_a_corpid_is_added_once():
    call_command(
        "corp",
        "add",
        "--corpid",
        "ww4",
        "--secret",
        "s",
        "--base-url",
        "http://sim.example.com",
        stdout=StringIO(),
    )
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "corp",
            "add",
            "--corpid",
            "ww4",
            "--secret",
            "s",
            "--base-url",
            "http://sim.example.com",
            stdout=StringIO(),
        )


def test_a_bad_base_url_names_the_field():
    with pytest.raises(CommandError, match="api_base_url"):
        call_command(
            "corp",
            "add",
            "--corpid",
            "ww5",
            "--secret",
            "s",
            "--base-url",
            "not a url",
            stdout=StringIO(),
        )
    assert not Corp.objects.filter(corpid="ww5").exists()
