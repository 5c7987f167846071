"""The engagement pages of issue #5 in a real browser, as an operations user sees them in zh-Hans:
the content library (a link and an uploaded image, filtered and searched), quick replies (a group,
a reply, "used it" counting), the segment editor's live count and preview, a mass message from
compose through pre-flight to the staff's confirmation and the results, and a moment that staff
publish and customers comment on. No script errors, no untranslated English."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from qike.campaigns.models import Campaign
from qike.engagement.models import ContentItem, QuickReply
from qike.moments.models import Moment
from qike.moments.tasks import refresh_moments_job
from qike.org.access import access_for
from qike.org.models import Department, Staff
from qike.segments import services as segments
from qike.segments.models import Segment
from qike.segments.views import PREVIEW_SIZE
from tests.browser.conftest import ADMIN, log_in, screenshot
from tests.campaigns.conftest import DISPATCHED, add_customer, advance, confirm
from tests.moments.conftest import JOB_SECONDS, publish, react

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# ASCII words an operations user may rightly see on these pages: product and format names, and
# the data itself (userids, addresses, file names) which the checks strip out first.
# "state" is WeCom's own name for a channel parameter (渠道参数 state), shown as such on purpose.
ALLOWED_ASCII = {"WeCom", "AppID", "JPG", "PNG", "MP4", "URL", "UserID", "state", "Ctrl", "Mac"}


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def corp_data(corp) -> list[str]:
    """Names that come from WeCom (staff, departments, tags, customers): data, not labels."""
    from qike.customers.models import Customer
    from qike.tags.models import Tag, TagGroup

    values: list[str] = []
    for model, fields in [
        (Staff, ("userid", "name")),
        (Department, ("name",)),
        (Tag, ("name",)),
        (TagGroup, ("name",)),
        (Customer, ("name", "external_userid")),
    ]:
        for row in model.objects.filter(corp=corp).values_list(*fields):
            values.extend(v for v in row if v)
    return sorted(values, key=len, reverse=True)  # longest first: no half-replaced names


def english_on(page, corp, *data: str) -> set[str]:
    """ASCII words in the page's content area that are neither allowed nor data."""
    text = page.inner_text("main")
    for value in [*data, *corp_data(corp), ADMIN[0]]:
        text = text.replace(value, " ")
    text = re.sub(r"https?://\S+|\S+@\S+|[\w.-]+\.(png|jpg|mp4)", " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text))
    return {w for w in words if w not in ALLOWED_ASCII and not re.search(r"\d", w)}


def assert_chinese(page, corp, *data: str) -> None:
    leftovers = english_on(page, corp, *data)
    assert not leftovers, f"untranslated on {page.url}: {sorted(leftovers)}"


def tiny_png(path: Path) -> Path:
    """A real 2×2 PNG (WeCom checks the bytes, not the name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(png)
    return path


def admin_access(corp):
    from django.contrib.auth import get_user_model

    return access_for(get_user_model().objects.get(username=ADMIN[0]), corp)


def test_content_library_link_and_image_filter_search_and_item_page(
    page, live_server, console_corp, tmp_path
):
    errors = errors_of(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/content/")
    screenshot(page, "content-empty")
    assert_chinese(page, console_corp)

    page.click("#new-item a[href*='kind=link']")
    page.fill("#id_title", "春季新品目录")
    page.fill("#id_text", "全场新品八折")
    page.fill("#id_url", "https://shop.example.com/spring")
    page.check("#id_tracked")
    screenshot(page, "content-new-link")
    assert_chinese(page, console_corp)
    page.click("#item-form button[type=submit]")
    page.wait_for_selector("#stats")  # saved: the item's page, with its use
    page.click(".page-head a[href$='/content/']")

    page.click("#new-item a[href*='kind=image']")
    page.fill("#id_title", "门店实拍")
    page.set_input_files("#id_upload", str(tiny_png(tmp_path / "store.png")))
    page.click("#item-form button[type=submit]")
    page.wait_for_selector("#stats")
    page.goto(f"{live_server.url}/content/")
    assert page.locator("#items tbody tr").count() == 2
    screenshot(page, "content-list")
    assert_chinese(page, console_corp, "store.png", "https://shop.example.com/spring")

    page.select_option("#id_kind", "image")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**kind=image**")
    rows = page.locator("#items tbody tr")
    assert rows.count() == 1 and "门店实拍" in rows.first.inner_text()

    page.select_option("#id_kind", "")
    page.fill("#id_q", "春季")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**q=**")
    assert page.locator("#items tbody tr").count() == 1
    page.click("#items a:has-text('春季新品目录')")
    page.wait_for_selector("#stats")
    link = ContentItem.objects.get(corp=console_corp, title="春季新品目录")
    assert page.url.endswith(f"/content/{link.pk}/")
    assert page.input_value("#id_url") == "https://shop.example.com/spring"
    screenshot(page, "content-item")
    assert_chinese(page, console_corp, "https://shop.example.com/spring")
    assert ContentItem.objects.get(corp=console_corp, kind="image").size > 0
    assert errors == []


def test_quick_replies_group_reply_search_and_used(page, live_server, console_corp):
    errors = errors_of(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/quick-replies/")
    screenshot(page, "quick-replies-empty")
    assert_chinese(page, console_corp)

    page.fill("#groups input[name=name]", "售后")
    page.click("#groups button:has-text('新建分组')")
    page.wait_for_selector("#groups [data-group]")

    page.click("#new-reply")
    page.wait_for_selector("#reply-form")
    page.select_option("#id_group", label="售后")
    page.fill("#id_title", "退换货说明")
    page.fill("#id_keywords", "退货 换货")
    page.fill("#id_text", "您好，七天内可无理由退换货。")
    screenshot(page, "quick-reply-new")
    assert_chinese(page, console_corp)
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#replies")

    page.fill("#id_q", "换货")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**q=**")
    row = page.locator("#replies tbody tr")
    assert row.count() == 1 and "退换货说明" in row.inner_text()
    used = row.locator("[data-used]")
    assert used.inner_text() == "0"
    row.locator("form[action$='/used/'] button").click()
    page.wait_for_selector("#replies [data-used='1']")
    assert page.input_value("#id_q") == "换货"  # back on the same search
    assert QuickReply.objects.get(corp=console_corp).used_count == 1
    screenshot(page, "quick-replies")
    assert_chinese(page, console_corp)
    assert errors == []


def test_segment_editor_counts_and_previews_live_then_saves(page, live_server, console_corp):
    errors = errors_of(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/segments/")
    assert_chinese(page, console_corp)
    page.click("#new-segment")
    page.wait_for_selector("#segment-form")
    everyone = page.inner_text("#live-count")
    screenshot(page, "segment-new")
    assert_chinese(page, console_corp)

    # No reload: a marker on the window survives only if htmx swaps the preview in place.
    page.evaluate("window.__stayed = true")
    department = Department.objects.filter(corp=console_corp).order_by("path")[1]  # not the root
    page.click("#picker-departments summary")
    page.check(f"#picker-departments input[value='{department.wecom_id}']")
    page.wait_for_function(
        "text => document.querySelector('#live-count').innerText !== text", arg=everyone
    )
    in_department = page.inner_text("#live-count")
    assert page.inner_text("#picker-departments summary") == "已选： 1"
    page.click("#picker-tags_none summary")
    tag = page.locator("#picker-tags_none input[type=checkbox]").first
    tag.check()
    page.wait_for_function(
        "text => document.querySelector('#live-count').innerText !== text", arg=in_department
    )
    assert page.evaluate("window.__stayed") is True
    access = admin_access(console_corp)
    rules = segments.parse_rules(
        corp=console_corp,
        data={"departments": [department.wecom_id], "tags_none": [tag.get_attribute("value")]},
    )
    expected = segments.count(corp=console_corp, rules=rules, access=access)
    assert page.inner_text("#live-count").split()[0] == str(expected)
    shown = page.locator("#members tbody tr").count()
    assert shown == min(expected, PREVIEW_SIZE)  # the preview's first page
    screenshot(page, "segment-live")

    page.fill("#id_name", "华东未流失客户")
    page.click("#save-segment")
    page.wait_for_url(re.compile(r".*/segments/(\d+/)?$"))
    segment = Segment.objects.get(corp=console_corp, name="华东未流失客户")
    assert list(segment.rules["departments"]) == [department.wecom_id]
    page.goto(f"{live_server.url}/segments/")
    page.wait_for_selector(f"#segment-{segment.pk} .segment-count")
    assert page.inner_text(f"#segment-{segment.pk} .segment-count").split()[0] == str(expected)
    screenshot(page, "segments")
    assert_chinese(page, console_corp)
    assert errors == []


def test_mass_message_compose_preflight_send_confirm_and_results(
    page, live_server, console_corp, sim_corp
):
    errors = errors_of(page)
    access = admin_access(console_corp)
    sender = Staff.objects.filter(corp=console_corp).order_by("userid").first().userid
    fresh = [add_customer(sim_corp, sender, name) for name in ("周末甲", "周末乙")]
    sim_corp.post("/groupmsg/personal", userid=sender, external_userids=[fresh[1]], text="早安")
    segment = segments.create_segment(
        access=access, name="周末活动对象", rules={"staff": [sender], "added_within_days": 1}
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/campaigns/")
    assert_chinese(page, console_corp)
    page.click("a[href$='/campaigns/new/']")
    page.fill("input[name=title]", "周末特惠")
    page.fill("textarea[name=text]", "周末全场八折，欢迎到店。")
    page.select_option("select[name=segment]", str(segment.pk))
    screenshot(page, "campaign-new")
    assert_chinese(page, console_corp)
    page.click("button[value=preflight]")
    page.wait_for_selector("#preflight")
    preflight = page.inner_text("#preflight")
    assert "今天已收到" in page.inner_text("#skipped")
    screenshot(page, "campaign-preflight")
    assert_chinese(page, console_corp, *fresh)
    assert Campaign.objects.count() == 0

    page.click("button[value=confirm]")
    page.wait_for_selector("#counts")
    campaign = Campaign.objects.get(corp=console_corp)
    assert page.url.endswith(f"/campaigns/{campaign.pk}/")
    screenshot(page, "campaign-dispatched")
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, sender)
    page.click("button:has-text('立即向企业微信查询')")
    page.wait_for_selector("#counts")
    counts = page.inner_text("#counts")
    assert preflight and "已发送" in counts
    sent = re.search(r"已发送\D*(\d+)", counts)
    assert sent and int(sent.group(1)) >= 1
    assert "周末甲" in page.inner_text("#customers")
    screenshot(page, "campaign-results")
    assert_chinese(page, console_corp, *fresh, sender)
    page.goto(f"{live_server.url}/campaigns/")
    assert "周末特惠" in page.inner_text(f"#campaign-{campaign.pk}")
    screenshot(page, "campaigns")
    assert errors == []


def test_moment_created_published_and_commented(page, live_server, console_corp, sim_corp):
    errors = errors_of(page)
    a, b = (
        Staff.objects.filter(corp=console_corp)
        .order_by("userid")
        .values_list("userid", flat=True)[:2]
    )
    fan = add_customer(sim_corp, a, "朋友圈粉丝")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/moments/")
    assert_chinese(page, console_corp)
    page.click("a[href$='/moments/new/']")
    page.fill("textarea[name=text]", "春季新品上市，欢迎咨询。")
    page.select_option("select[name=staff]", [a, b])
    screenshot(page, "moment-new")
    assert_chinese(page, console_corp, a, b)
    page.click("#create-moment")
    page.wait_for_url(re.compile(r".*/moments/\d+/$"))
    moment = Moment.objects.get(corp=console_corp)
    assert "春季新品上市" in page.inner_text("main")
    screenshot(page, "moment-created")

    advance(sim_corp, JOB_SECONDS)
    refresh_moments_job()
    moment.refresh_from_db()
    publish(sim_corp, moment.moment_id, a)
    react(sim_corp, moment.moment_id, "comment", a, fan, "好看")
    page.click("button:has-text('立即刷新')")
    page.wait_for_selector(f"#sender-{a}")
    assert "朋友圈粉丝" in page.inner_text("#comments")
    assert "已发表" in page.inner_text(f"#sender-{a}")
    screenshot(page, "moment-detail")
    assert_chinese(page, console_corp, a, b, fan)
    page.goto(f"{live_server.url}/moments/")
    assert page.locator(f"#moment-{moment.pk}").count() == 1
    screenshot(page, "moments")
    assert errors == []
