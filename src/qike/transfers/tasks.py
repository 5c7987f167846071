"""Following transfers: WeCom reports takeovers through transfer_result (and, for failures of
on-job transfers, transfer_fail events); this job polls every open transfer."""

from __future__ import annotations

import logging

from huey import crontab

from qike.audit.services import Actor, acting
from qike.jobs import periodic
from qike.transfers import services

log = logging.getLogger("qike.transfers")


@periodic(crontab(minute="*/15"))
def refresh_transfers_job() -> int:
    """One transfer's (or corp's) WeCom trouble does not stop the others; it is logged and the
    next run tries again."""
    changed = 0
    with acting(Actor(via="job", name="transfers")):
        for transfer in services.open_transfers():
            try:
                changed += len(services.refresh(corp=transfer.corp, transfer=transfer))
            except Exception:
                log.exception("transfers.refresh_failed transfer=%s", transfer.pk)
    return changed
