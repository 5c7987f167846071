"""What the demo adds in Qike once the simulated corp is synced, so its pages are not empty: a live
code with a welcome message built from the content library, a few library items, quick replies and
segments. Everything goes through the apps' services (and so through wecomsim where WeCom is
involved), as an admin would do it in the console. Run once per demo corp."""

from __future__ import annotations

import io
import logging

import segno
from django.core.files.uploadedfile import SimpleUploadedFile

from qike.core.models import Corp
from qike.org.access import Access
from qike.org.models import Staff, StaffStatus
from qike.tags.models import Tag, TagType

log = logging.getLogger("qike.demo")

SHOP_URL = "https://shop.example.com/autumn"


def seed_showcase(access: Access) -> dict[str, int]:
    """Create the showcase for `access.corp` (a corp admin's access). Returns what was made."""
    from qike.engagement import library, quick_replies

    corp = access.corp
    poster = library.save_item(
        access=access,
        data=library.ItemInput(
            kind="image", title="秋季新品海报", tag_names=["新品"], upload=_qr_png(SHOP_URL)
        ),
    )
    catalogue = library.save_item(
        access=access,
        data=library.ItemInput(
            kind="link",
            title="秋季新品目录",
            text="30 款新品，会员专享 9 折",
            url=SHOP_URL,
            tag_names=["新品"],
        ),
    )
    hours = library.save_item(
        access=access,
        data=library.ItemInput(
            kind="text", title="营业时间", text="门店营业时间：每天 10:00-22:00。"
        ),
    )
    welcome = _welcome(access, item_ids=[poster.pk, catalogue.pk])
    made = {"library_items": 3, "welcome_messages": 1}
    made["quick_replies"] = _quick_replies(access, quick_replies, [catalogue.pk, hours.pk])
    made["segments"] = _segments(access, corp)
    made["live_codes"] = _live_code(access, corp, welcome)
    return made


def _qr_png(url: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return SimpleUploadedFile("poster.png", buffer.getvalue(), content_type="image/png")


def _welcome(access: Access, *, item_ids: list[int]):
    from qike.engagement import services

    return services.save_message(
        access=access,
        name="新客欢迎语",
        text="%NICKNAME% 您好，我是您的专属顾问，有任何问题随时找我～",
        attachments=[],
        item_ids=item_ids,
        is_corp_default=True,
    )


def _quick_replies(access: Access, quick_replies, item_ids: list[int]) -> int:
    group = quick_replies.save_group(access=access, name="售前咨询")
    answers = [
        (
            "价格咨询",
            "会员价为原价 9 折，活动期间满 300 减 50。",
            "价格 多少钱 优惠",
            [item_ids[0]],
        ),
        ("营业时间", "", "几点 营业 开门", [item_ids[1]]),
        ("退换货", "7 天无理由退换，门店或线上均可办理。", "退货 换货 售后", []),
    ]
    for title, text, keywords, items in answers:
        quick_replies.save_reply(
            access=access,
            group_id=group.pk,
            title=title,
            text=text,
            keywords=keywords,
            item_ids=items,
        )
    return len(answers)


def _segments(access: Access, corp: Corp) -> int:
    from qike.segments import services

    services.create_segment(
        access=access,
        name="近 30 天新客",
        description="最近 30 天添加的客户",
        rules={"added_within_days": 30},
    )
    made = 1
    tags = list(Tag.objects.filter(corp=corp, type=TagType.CORP).order_by("-order", "wecom_id")[:2])
    if tags:
        services.create_segment(
            access=access,
            name=f"{tags[0].name}客户",
            rules={"tags_any": [tags[0].wecom_id]},
        )
        made += 1
    return made


def _live_code(access: Access, corp: Corp, welcome) -> int:
    from qike.acquisition import services

    userids = list(
        Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE)
        .order_by("userid")
        .values_list("userid", flat=True)[:3]
    )
    if not userids:
        return 0
    services.create_live_code(
        access=access,
        spec=services.LiveCodeSpec(
            name="官网咨询活码",
            channel_group="官网",
            userids=tuple(userids),
            welcome_message_id=welcome.pk,
        ),
    )
    return 1
