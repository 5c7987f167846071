"""The customer list as an Excel workbook: openpyxl's write-only mode (constant memory), rows read
from the database in chunks, the file streamed to the browser from a temporary file."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import IO

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from qike.customers.forms import add_way_label
from qike.customers.models import FollowRelation
from qike.customers.privacy import mask_phone
from qike.tags.models import TagAssignment

# Excel holds about a million rows; an export this large is a job for the API, not a download.
EXPORT_MAX_ROWS = 100_000
CHUNK = 2_000


def _headers() -> list[str]:
    return [
        _("Customer"),
        _("External UserID"),
        _("Customer type"),
        _("Company"),
        _("Staff"),
        _("Staff UserID"),
        _("Remark"),
        _("Description"),
        _("Remark company"),
        _("Phone numbers"),
        _("Tags"),
        _("Add way"),
        _("Channel state"),
        _("Added at"),
        _("Status"),
    ]


def _text(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell | str:
    """Customer-typed text, cleaned of characters Excel refuses, and never run as a formula: a
    WeChat nickname like "=HYPERLINK(…)" must stay text."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    if not value.startswith(("=", "+", "-", "@")):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the wall-clock time of the console's zone.
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _row(sheet: WriteOnlyWorksheet, relation: FollowRelation, reveal_phones: bool) -> list:
    customer, member = relation.customer, relation.staff
    phones = [m if reveal_phones else mask_phone(m) for m in relation.remark_mobiles]
    tags = [a.tag.name for a in relation.tag_assignments.all()]
    return [
        _text(sheet, customer.name),
        customer.external_userid,
        str(customer.get_type_display()),
        _text(sheet, customer.corp_name),
        _text(sheet, member.name),
        member.userid,
        _text(sheet, relation.remark),
        _text(sheet, relation.description),
        _text(sheet, relation.remark_corp_name),
        ", ".join(phones),
        _text(sheet, ", ".join(tags)),
        add_way_label(relation.add_way),
        _text(sheet, relation.state),
        _local(relation.added_at),
        str(relation.get_status_display()),
    ]


def write_relations(
    relations: QuerySet[FollowRelation], *, reveal_phones: bool, target: IO[bytes]
) -> int:
    """Write the relations (newest first) to `target` as .xlsx; returns the number of rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Customers"))
    sheet.append(_headers())
    rows = (
        relations.select_related("customer", "staff")
        .prefetch_related(
            Prefetch("tag_assignments", queryset=TagAssignment.objects.select_related("tag"))
        )
        .order_by("-added_at", "-pk")
    )
    count = 0
    for relation in rows.iterator(chunk_size=CHUNK):
        sheet.append(_row(sheet, relation, reveal_phones))
        count += 1
    book.save(target)
    return count


def export_file(relations: QuerySet[FollowRelation], *, reveal_phones: bool) -> IO[bytes]:
    """A temporary file holding the workbook, rewound; it disappears when closed."""
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    write_relations(relations, reveal_phones=reveal_phones, target=target)
    target.seek(0)
    return target
