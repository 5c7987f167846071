"""The lifecycle and hand-over pages in a real browser: a card dragged on the board lands in the
new stage (and on the customer's timeline), and the funnel, pool, lost-customer and transfer pages
render in Chinese without script errors."""

from __future__ import annotations

import pytest

from qike.core import clock
from qike.customers.models import FollowRelation, RelationStatus, TimelineEntry, TimelineKind
from qike.lifecycle import services as lifecycle
from qike.retention.models import PoolEntry, PoolReason, PoolStatus
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_dragging_a_card_moves_the_customer_to_that_stage(page, live_server, console_corp):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    first, second = lifecycle.stages(console_corp)[:2]
    log_in(page, live_server)
    page.goto(f"{live_server.url}/lifecycle/board/")
    card = page.locator(f"#stage-{first.pk} .board-card").first
    relation_pk = int(card.get_attribute("id").removeprefix("card-"))
    screenshot(page, "lifecycle-board")

    card.drag_to(page.locator(f"#stage-{second.pk}"))
    page.wait_for_selector(f"#stage-{second.pk} #card-{relation_pk}")

    relation = FollowRelation.objects.get(pk=relation_pk)
    assert lifecycle.stage_of(relation)[0] == second
    entry = TimelineEntry.objects.get(customer=relation.customer, kind=TimelineKind.STAGE_CHANGED)
    assert (entry.data["from"], entry.data["to"]) == (first.name, second.name)
    assert errors == []


def test_funnel_pool_churn_and_transfer_pages_render(page, live_server, console_corp):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    assert FollowRelation.objects.filter(corp=console_corp, status=RelationStatus.ACTIVE).exists()
    pooled = FollowRelation.objects.filter(corp=console_corp).first().customer
    PoolEntry.objects.create(
        corp=console_corp,
        customer=pooled,
        status=PoolStatus.IN_POOL,
        reason=PoolReason.IDLE,
        pooled_at=clock.now(),
    )
    log_in(page, live_server)
    for path, name, marker in [
        ("/", "dashboard-attention", "位客户在公海中"),
        ("/lifecycle/funnel/", "lifecycle-funnel", "新客户"),
        ("/lifecycle/list/", "lifecycle-list", "新客户"),
        ("/pool/", "pool", "公海"),
        ("/lost-customers/", "lost-customers", "流失"),
        ("/transfers/", "transfers", "继承"),
        ("/transfers/new/", "transfer-new", "继承"),
        ("/transfers/resigned/", "resigned", "离职"),
        ("/retention-settings/", "retention-settings", "公海"),
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert marker in page.content(), path
        screenshot(page, name)
    assert errors == []
