"""The one module that knows the task queue (huey). Domain code declares and enqueues jobs here.

Embedded default: huey on SQLite in QIKE_HOME. Production: huey on Redis with several consumers.
Tests run huey in immediate mode, so a job runs as soon as the transaction that enqueued it commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

__all__ = ["HUEY", "URGENT_PRIORITY", "enqueue_on_commit", "periodic", "task"]

# huey runs higher priorities first (PriorityRedisHuey, SqliteHuey): for work with a deadline,
# such as a welcome message, whose code WeCom accepts for 20 seconds only.
URGENT_PRIORITY = 100


def task(*, retries: int = 3, retry_delay: int = 10, **options: Any) -> Callable:
    """Declare a job. Jobs must be idempotent: huey may run one again after a crash or a retry."""
    return db_task(retries=retries, retry_delay=retry_delay, **options)


def periodic(schedule: Any, **options: Any) -> Callable:
    return db_periodic_task(schedule, **options)


def enqueue_on_commit(job: Callable, *args: Any, **kwargs: Any) -> None:
    """Enqueue after the surrounding transaction commits, so the job sees what the caller wrote."""
    transaction.on_commit(lambda: job(*args, **kwargs))
