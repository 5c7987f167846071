"""The console banner for the acquisition-link balance: shown on every page to those who manage
acquisition until an admin dismisses the alert (the links page says more and offers the dismissal)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from qike.acquisition.models import QuotaAlert, QuotaAlertKind
from qike.acquisition.services import may_manage
from qike.console.banners import Banner, register
from qike.org.access import Access


def quota_banners(access: Access) -> list[Banner]:
    if not may_manage(access):
        return []
    alert = (
        QuotaAlert.objects.filter(corp=access.corp, dismissed_at__isnull=True)
        .only("pk", "kind")
        .first()  # the newest: one banner is enough, the links page lists them all
    )
    if alert is None:
        return []
    if alert.kind == QuotaAlertKind.EXHAUSTED:
        text = _(
            "The acquisition-link balance is used up: links no longer add customers until it is "
            "topped up in WeCom."
        )
        level = "error"
    else:
        text = _("The acquisition-link balance is low: top it up in WeCom.")
        level = "warning"
    return [
        Banner(
            level=level,
            text=text,
            url=reverse("console:acquisition_links"),
            link_text=_("Acquisition links"),
            key=f"quota-{alert.pk}",
        )
    ]


register(quota_banners)
