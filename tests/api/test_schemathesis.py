"""Property-based run over the OpenAPI document (schemathesis): whatever a client sends, valid
or not, the API answers in its error format and never with a 500.

Runs against the live server with a corp synced from wecomsim, so write endpoints reach a
real (simulated) WeCom. Few examples per operation keep it well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from qike.api.root import api as ninja_api
from qike.customers.models import FollowRelation
from qike.intake.models import CallbackEvent
from qike.org.access import access_for
from qike.org.models import Department, Membership, Role
from qike.sync.full import full_sync
from qike.tags import services as tag_services
from qike.tags.models import TagGroup
from tests.api.conftest import make_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXAMPLES_PER_OPERATION = 6
ERROR_KEYS = {"code", "message", "details"}
FUZZ_GROUP = "模糊测试"


def _run(
    operation,
    mode: GenerationMode,
    base_url: str,
    token: str,
    failures: list,
    known: dict[str, str] | None = None,
) -> None:
    wanted = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in (known or {}).items() if k in wanted}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        label = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
        if response.status_code >= 500 and response.status_code != 502:
            failures.append(f"{response.status_code} {label}: {response.text[:300]}")
        elif response.status_code >= 400:
            body = response.json()
            if set(body) != ERROR_KEYS:
                failures.append(f"error format {response.status_code} {label}: {body}")

    check()


def real_ids(admin: User, corp) -> dict[str, str]:
    """Path parameters naming objects that exist: a tag group Qike created (so WeCom lets it be
    edited), a relation, a member, a department and an event."""
    relation = FollowRelation.objects.filter(corp=corp).select_related("customer", "staff").first()
    group = TagGroup.objects.filter(corp=corp, name=FUZZ_GROUP).first()
    if group is None:
        group = tag_services.create_group(
            access=access_for(admin, corp), name=FUZZ_GROUP, tag_names=["一", "二"]
        )
    event = CallbackEvent.objects.filter(corp=corp).first()
    ids = {
        "relation_id": str(relation.pk),
        "external_userid": relation.customer.external_userid,
        "userid": relation.staff.userid,
        "group_id": group.wecom_id,
        "department_id": str(Department.objects.filter(corp=corp).first().wecom_id),
    }
    tag = group.tags.first()
    if tag is not None:
        ids["tag_id"] = tag.wecom_id
    if event is not None:
        ids["event_id"] = str(event.pk)
    return ids


def test_no_request_makes_the_api_fail(qike_corp, live_server):
    full_sync(qike_corp)
    admin = User.objects.create_user("admin", password="pw")
    Membership.objects.create(user=admin, corp=qike_corp, role=Role.CORP_ADMIN)
    token = make_token(qike_corp, admin)
    schema = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema())

    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, live_server.url, token, failures)
        # And with ids that exist, so bodies reach the services and WeCom.
        _run(
            operation,
            GenerationMode.POSITIVE,
            live_server.url,
            token,
            failures,
            real_ids(admin, qike_corp),
        )
    assert not failures, "\n".join(failures[:20])
