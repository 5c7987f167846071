"""REST API: customers and follow relations, read within the token's data scope."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from qike.api.auth import access_of, read_auth
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, Id, Text, errors
from qike.customers.models import Customer, FollowRelation
from qike.customers.privacy import mask_phone, reveals_phones
from qike.customers.queries import filter_relations, get_customer, get_relation, relations_in_scope
from qike.customers.schemas import (
    CustomerFilterQuery,
    CustomerOut,
    CustomerPage,
    RelationPage,
    RelationWithCustomer,
)
from qike.org.access import Access
from qike.tags.models import TagAssignment

router = Router(tags=["customers"], auth=read_auth)


def with_details(relations: QuerySet[FollowRelation]) -> QuerySet[FollowRelation]:
    """Relations with their staff, customer and tags loaded in a fixed number of queries."""
    return relations.select_related("staff", "customer").prefetch_related(
        Prefetch(
            "tag_assignments",
            queryset=TagAssignment.objects.select_related("tag__group").order_by(
                "-tag__order", "tag__wecom_id"
            ),
        )
    )


def relation_data(relation: FollowRelation, *, masked: bool, with_customer: bool = False) -> dict:
    mobiles = [str(m) for m in relation.remark_mobiles or []]
    data = {
        "id": relation.pk,
        "staff": {"userid": relation.staff.userid, "name": relation.staff.name},
        "remark": relation.remark,
        "description": relation.description,
        "remark_corp_name": relation.remark_corp_name,
        "remark_mobiles": [mask_phone(m) for m in mobiles] if masked else mobiles,
        "oper_userid": relation.oper_userid,
        "add_way": relation.add_way,
        "state": relation.state,
        "added_at": relation.added_at,
        "status": relation.status,
        "is_half": relation.is_half,
        "tags": [
            {
                "id": a.tag.wecom_id,
                "name": a.tag.name,
                "group_id": a.tag.group.wecom_id if a.tag.group else None,
                "group_name": a.tag.group.name if a.tag.group else None,
                "type": a.tag.type,
            }
            for a in relation.tag_assignments.all()
        ],
    }
    if with_customer:
        data["customer"] = customer_summary(relation.customer)
    return data


def customer_summary(customer: Customer) -> dict:
    return {
        "external_userid": customer.external_userid,
        "name": customer.name,
        "avatar": customer.avatar,
        "type": customer.type,
    }


def customer_data(customer: Customer, relations: list[FollowRelation], *, masked: bool) -> dict:
    return {
        **customer_summary(customer),
        "gender": customer.gender,
        "unionid": customer.unionid,
        "position": customer.position,
        "corp_name": customer.corp_name,
        "corp_full_name": customer.corp_full_name,
        "first_seen_at": customer.created_at,
        "relations": [relation_data(r, masked=masked) for r in relations],
    }


def customers_with_relations(access: Access, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    scoped = with_details(relations_in_scope(access)).order_by("added_at", "pk")
    return customers.prefetch_related(
        Prefetch("relations", queryset=scoped, to_attr="visible_relations")
    )


@router.get(
    "/customers", response={200: CustomerPage, **errors(400, 403)}, summary="List customers"
)
def list_customers(
    request: HttpRequest, filters: Query[CustomerFilterQuery], page: Query[CursorQuery]
) -> dict:
    """Customers with at least one follow relation you may see that matches the filters, newest
    first (by when Qike first recorded them). Each lists every relation you may see."""
    access = access_of(request)
    matching = filter_relations(access, filters.to_filter())
    customers = Customer.objects.filter(corp=access.corp, pk__in=matching.values("customer_id"))
    result = cursor_page(
        customers_with_relations(access, customers), field="created_at", params=page
    )
    result["items"] = [customer_data(c, c.visible_relations, masked=True) for c in result["items"]]
    return result


@router.get(
    "/customers/{external_userid}",
    response={200: CustomerOut, **errors(403, 404)},
    summary="Get a customer",
)
def customer_detail(request: HttpRequest, external_userid: Text) -> dict:
    """One customer by WeCom external_userid, with every follow relation you may see and its tags."""
    access = access_of(request)
    customer = get_customer(access, external_userid)
    loaded = customers_with_relations(access, Customer.objects.filter(pk=customer.pk)).get()
    return customer_data(loaded, loaded.visible_relations, masked=not reveals_phones(access))


@router.get(
    "/relations", response={200: RelationPage, **errors(400, 403)}, summary="List follow relations"
)
def list_relations(
    request: HttpRequest, filters: Query[CustomerFilterQuery], page: Query[CursorQuery]
) -> dict:
    """Follow relations (a customer as one staff member follows them) matching the filters,
    newest added first."""
    access = access_of(request)
    relations = with_details(filter_relations(access, filters.to_filter()))
    result = cursor_page(relations, field="added_at", params=page)
    result["items"] = [relation_data(r, masked=True, with_customer=True) for r in result["items"]]
    return result


@router.get(
    "/relations/{relation_id}",
    response={200: RelationWithCustomer, **errors(403, 404)},
    summary="Get a follow relation",
)
def relation_detail(request: HttpRequest, relation_id: Id) -> dict:
    return relation_detail_data(access_of(request), relation_id)


def relation_detail_data(access: Access, relation_id: int) -> dict:
    """One relation in full (404 another corp's, 403 outside your scope); shared with tag marking."""
    relation = get_relation(access, relation_id)
    loaded = with_details(FollowRelation.objects.filter(pk=relation.pk)).get()
    return relation_data(loaded, masked=not reveals_phones(access), with_customer=True)
