"""Reading an uploaded .xlsx list: header row, columns found by their names, every row checked.

A file-level problem (not an .xlsx, empty, no phone column, too many rows) is a BadFile and nothing
is kept. Row-level problems are listed with the row's number as Excel shows it (the header is row
1), and those rows are left out; the user decides whether to import the others.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from qike.customers.mobiles import is_mainland_mobile, normalise_mobile

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
MAX_NAME = 64
MAX_EXTRA_COLUMNS = 20
MAX_EXTRA_VALUE = 200

# Header names people use, compared after trimming, lower-casing and dropping notes such as
# "手机号（必填）" or a leading "*".
NAME_HEADERS = {
    "姓名",
    "名字",
    "客户姓名",
    "客户名称",
    "客户",
    "联系人",
    "name",
    "customer",
    "姓名/name",
}
PHONE_HEADERS = {
    "手机号",
    "手机",
    "手机号码",
    "电话",
    "电话号码",
    "联系电话",
    "联系方式",
    "客户手机号",
    "phone",
    "mobile",
    "mobile phone",
    "phone number",
    "cellphone",
    "tel",
}
STAFF_HEADERS = {
    "员工",
    "负责人",
    "跟进人",
    "归属员工",
    "跟进员工",
    "添加人",
    "销售",
    "客服",
    "员工账号",
    "userid",
    "user id",
    "staff",
    "owner",
    "assignee",
}
_NOTE = re.compile(r"[（(\[【].*?[)）\]】]")


class BadFile(ValueError):
    """The file as a whole cannot be read: say why, keep nothing."""


@dataclass
class Row:
    number: int  # as Excel shows it
    name: str
    phone: str  # normalised
    staff: str  # the staff column's text ("" when there is none)
    extra: dict[str, str]


@dataclass
class Problem:
    row: int
    reason: str


@dataclass
class Parsed:
    columns: dict[str, str]  # "name" / "phone" / "staff" → the header as written
    extra_headers: list[str]
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _header_key(value: object) -> str:
    text = _NOTE.sub("", str(value or "")).strip().lstrip("*＊").strip()
    return " ".join(text.lower().split())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # numbers typed into a cell come back as floats
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def _open_rows(data: bytes):
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise BadFile(_("The file is larger than 5 MB: split it into several files."))
    if not data:
        raise BadFile(_("The file is empty."))
    if not data.startswith(b"PK\x03\x04"):
        raise BadFile(
            _("This is not an .xlsx file. Save it from Excel or WPS as “Excel workbook (.xlsx)”.")
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # zip, XML and openpyxl's own errors: all mean a broken file
        raise BadFile(_("The file could not be read as an .xlsx workbook.")) from exc
    return book, sheet.iter_rows(values_only=True)


def _find_columns(header: tuple, want_staff: bool) -> tuple[dict[str, int], list[tuple[int, str]]]:
    found: dict[str, int] = {}
    extra: list[tuple[int, str]] = []
    for index, value in enumerate(header):
        key = _header_key(value)
        if not key:
            continue
        if key in PHONE_HEADERS and "phone" not in found:
            found["phone"] = index
        elif key in NAME_HEADERS and "name" not in found:
            found["name"] = index
        elif want_staff and key in STAFF_HEADERS and "staff" not in found:
            found["staff"] = index
        elif len(extra) < MAX_EXTRA_COLUMNS:
            extra.append((index, _cell_text(value)[:64]))
    return found, extra


def _value(row: tuple, index: int | None) -> object:
    if index is None or index >= len(row):
        return None
    return row[index]


def parse(data: bytes, *, want_staff: bool) -> Parsed:
    """Read the first sheet. Rows that are entirely empty are skipped silently."""
    book, rows = _open_rows(data)
    try:
        return _parse_rows(rows, want_staff)
    except BadFile:
        raise
    except Exception as exc:  # a broken sheet part shows up only while reading rows
        raise BadFile(_("The file could not be read as an .xlsx workbook.")) from exc
    finally:
        book.close()


def _parse_rows(rows, want_staff: bool) -> Parsed:
    header = next(rows, None)
    if header is None or not any(_cell_text(v) for v in header):
        raise BadFile(_("The file is empty: the first row must name the columns."))
    found, extra = _find_columns(header, want_staff)
    if "phone" not in found:
        raise BadFile(
            _("No phone column: name a column in the first row 手机号 (or phone, mobile, 手机).")
        )
    if want_staff and "staff" not in found:
        raise BadFile(
            _(
                "No staff column: to assign by column, name a column 员工 (or 负责人, staff, "
                "userid) and put a UserID or a staff name in each row."
            )
        )
    parsed = Parsed(
        columns={k: _cell_text(header[i]) for k, i in found.items()},
        extra_headers=[h for _i, h in extra],
    )
    count = 0
    for number, row in enumerate(rows, start=2):
        if not any(_cell_text(v) for v in row):
            continue
        count += 1
        if count > MAX_ROWS:
            raise BadFile(
                _("The file has more than %(n)s rows: split it into several files.")
                % {"n": f"{MAX_ROWS:,}"}
            )
        _check_row(parsed, number, row, found, extra)
    if count == 0:
        raise BadFile(_("The file has a header row but no data rows."))
    return parsed


def _check_row(
    parsed: Parsed, number: int, row: tuple, found: dict[str, int], extra: list[tuple[int, str]]
) -> None:
    name = _cell_text(_value(row, found.get("name")))
    raw_phone = _cell_text(_value(row, found["phone"]))
    phone = normalise_mobile(raw_phone)
    problem = ""
    if not phone:
        problem = _("No mobile number.")
    elif not is_mainland_mobile(phone):
        problem = _("Not a mainland mobile number (11 digits starting with 1).")
    elif len(name) > MAX_NAME:
        problem = _("The name is longer than %(n)d characters.") % {"n": MAX_NAME}
    if problem:
        parsed.problems.append(Problem(number, problem))
        return
    values = {header: _cell_text(_value(row, index))[:MAX_EXTRA_VALUE] for index, header in extra}
    parsed.rows.append(
        Row(
            number=number,
            name=name,
            phone=phone,
            staff=_cell_text(_value(row, found.get("staff"))),
            extra={k: v for k, v in values.items() if v and k},
        )
    )
