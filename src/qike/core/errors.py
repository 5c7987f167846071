from __future__ import annotations

from django.core.exceptions import ValidationError


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each field that failed and why, for the CLI and logs."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in exc.message_dict.items()
        )
    return "; ".join(exc.messages)
