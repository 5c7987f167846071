"""The job that creates a confirmed store import's stores (one WeCom call per store)."""

from __future__ import annotations

from qike.acquisition import stores
from qike.jobs import task


@task()
def import_stores_job(batch_id: int) -> int:
    """Idempotent: rows already created or refused are skipped when it runs again."""
    batch = stores.run_import(batch_id=batch_id)
    return len(batch.created) if batch else 0
