"""Console state changes: a user's own preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qike.console.models import UserPreference


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


@transaction.atomic
def set_language(*, user: User, language: str) -> UserPreference:
    """Remember the user's console language, so it follows them to every browser they log in on."""
    if language not in language_codes():
        raise ValidationError(_("Unknown language: %(code)s") % {"code": language})
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference


def preferred_language(user: User) -> str:
    """The user's remembered language, or "" when they never chose one."""
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""
