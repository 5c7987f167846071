"""Store codes (门店活码): a chain's stores, each with its own live code (one WeCom contact way per
store), the public landing page's region picker, per-store figures, and importing a store list
from Excel.

A store's code is an ordinary live code underneath: creating, changing and deleting a store goes
through the live-code services, so caps, shifts, backups, spreading, auto-tags and the welcome
message behave exactly as on any live code. Every change here: WeCom first, one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from qike.acquisition import services
from qike.acquisition.models import (
    LiveCodeAdd,
    Store,
    StoreImport,
    StoreImportStatus,
    StoreStatus,
)
from qike.acquisition.pools import day_start
from qike.acquisition.services import LiveCodeSpec
from qike.acquisition.stats import LOST
from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.jobs import enqueue_on_commit
from qike.org.access import Access, access_for
from qike.org.models import Department, Staff, StaffStatus
from qike.tags.views import describe_wecom_error
from qike.wecom.errors import WeComError

SHORT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
STORE_PHONE = re.compile(r"^[0-9+()\-#,/ 转]{5,32}$")
MAX_REGION = 32
MAX_NAME = 64
MAX_ADDRESS = 200
MAX_HOURS = 64


# --- who may ---------------------------------------------------------------------------------


def may_view(access: Access) -> bool:
    """Stores and their figures: whoever may see live codes (managers: their members' figures)."""
    return services.may_view(access)


def may_manage(access: Access) -> bool:
    return services.may_manage(access)


def require_view(access: Access) -> None:
    if not may_view(access):
        raise PermissionDenied(_("Your role may not see stores."))


def require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may change stores."))


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreSpec:
    """What a user asks for: the store itself, and its code's staff and settings (`pool`; its
    name, channel group and remark are the store's, whatever the pool says)."""

    name: str
    province: str
    city: str
    address: str
    pool: LiveCodeSpec
    district: str = ""
    short_code: str = ""
    phone: str = ""
    opening_hours: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    status: str = StoreStatus.OPEN
    sort_order: int = 0


# The store's own fields, in the order forms show them; all but the last four are text.
STORE_FIELDS = (
    "name",
    "short_code",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "opening_hours",
    "latitude",
    "longitude",
    "status",
    "sort_order",
)
TEXT_FIELDS = STORE_FIELDS[:-4]


def _clean(spec: StoreSpec) -> StoreSpec:
    return dataclasses.replace(spec, **{name: getattr(spec, name).strip() for name in TEXT_FIELDS})


def _check_fields(spec: StoreSpec) -> None:
    """The store's own fields; raise ValidationError with every problem at once."""
    problems: list[str] = []
    if not spec.name:
        problems.append(_("Give the store a name."))
    elif len(spec.name) > MAX_NAME:
        problems.append(_("A store name has at most %(max)d characters.") % {"max": MAX_NAME})
    if not spec.province or not spec.city:
        problems.append(_("Give the store's province and city."))
    regions = (spec.province, spec.city, spec.district)
    if any(len(part) > MAX_REGION for part in regions):
        problems.append(
            _("Province, city and district have at most %(max)d characters each.")
            % {"max": MAX_REGION}
        )
    if not spec.address:
        problems.append(_("Give the store's address."))
    elif len(spec.address) > MAX_ADDRESS:
        problems.append(_("An address has at most %(max)d characters.") % {"max": MAX_ADDRESS})
    if spec.short_code and not SHORT_CODE.match(spec.short_code):
        problems.append(
            _("A store number uses letters, digits, - and _ (at most 32), e.g. SH-001.")
        )
    if spec.phone and (
        not STORE_PHONE.match(spec.phone) or sum(c.isdigit() for c in spec.phone) < 5
    ):
        problems.append(_("%(phone)s is not a phone number.") % {"phone": spec.phone})
    if len(spec.opening_hours) > MAX_HOURS:
        problems.append(_("Opening hours have at most %(max)d characters.") % {"max": MAX_HOURS})
    problems += _coordinate_problems(spec.latitude, spec.longitude)
    if spec.status not in StoreStatus.values:
        problems.append(_("A store is open or closed."))
    if problems:
        raise ValidationError(problems)


def _coordinate_problems(latitude: Decimal | None, longitude: Decimal | None) -> list[str]:
    if latitude is None and longitude is None:
        return []
    if latitude is None or longitude is None:
        return [_("Give both latitude and longitude, or neither.")]
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return [_("Latitude lies between -90 and 90, longitude between -180 and 180.")]
    return []


def _live_stores(corp: Corp) -> QuerySet[Store]:
    return Store.objects.filter(corp=corp, deleted_at__isnull=True)


def _check_unique(corp: Corp, spec: StoreSpec, store_pk: int | None) -> None:
    others = _live_stores(corp).exclude(pk=store_pk or -1)
    if spec.short_code and others.filter(short_code__iexact=spec.short_code).exists():
        raise ValidationError(
            _("Another store already has the number %(number)s.") % {"number": spec.short_code}
        )
    same_place = others.filter(
        name=spec.name, province=spec.province, city=spec.city, address=spec.address
    )
    if same_place.exists():
        raise ValidationError(
            _("The store %(name)s at this address already exists.") % {"name": spec.name}
        )


def _code_spec(spec: StoreSpec) -> LiveCodeSpec:
    """The store's live code: named after the store (WeCom shows the name as the way's remark)."""
    return dataclasses.replace(spec.pool, name=spec.name, channel_group="", remark="")


def check(corp: Corp, spec: StoreSpec, store_pk: int | None = None) -> StoreSpec:
    """Every check a store must pass before anything is written or sent; the cleaned spec."""
    spec = _clean(spec)
    _check_fields(spec)
    _check_unique(corp, spec, store_pk)
    services._resolve(corp, _code_spec(spec))  # the live code's own checks (staff, tags, …)
    return spec


def _apply(store: Store, spec: StoreSpec) -> None:
    for name in STORE_FIELDS:
        setattr(store, name, getattr(spec, name))


def _require_live(store: Store) -> None:
    if store.deleted_at is not None:
        raise ValidationError(_("This store has been deleted."))


# --- stores -----------------------------------------------------------------------------------


def create_store(*, access: Access, spec: StoreSpec) -> Store:
    """The store and its contact way in WeCom; if WeCom refuses, nothing is kept."""
    require_manage(access)
    spec = check(access.corp, spec)
    with transaction.atomic():
        code = services.create_live_code(access=access, spec=_code_spec(spec))
        store = Store(corp=access.corp, live_code=code)
        _apply(store, spec)
        store.save()
    return store


def update_store(*, access: Access, store: Store, spec: StoreSpec) -> Store:
    require_manage(access)
    _require_live(store)
    spec = check(access.corp, spec, store.pk)
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store.pk, corp=access.corp)
        _require_live(store)
        store.live_code = services.update_live_code(
            access=access, code=store.live_code, spec=_code_spec(spec)
        )
        _apply(store, spec)
        store.save()
    return store


def set_status(*, access: Access, store: Store, status: str) -> Store:
    """Open or close a store: a closed store leaves the public page; its code keeps working
    where it is printed (WeCom is not called)."""
    require_manage(access)
    _require_live(store)
    if status not in StoreStatus.values:
        raise ValidationError(_("A store is open or closed."))
    Store.objects.filter(pk=store.pk, corp=access.corp).update(
        status=status, updated_at=clock.now()
    )
    store.status = status
    return store


def delete_store(*, access: Access, store: Store) -> None:
    """Delete the store's contact way in WeCom (its printed code stops working) and the store;
    its figures stay in Qike."""
    require_manage(access)
    _require_live(store)
    with transaction.atomic():
        store = (
            Store.objects.select_for_update()
            .select_related("live_code")
            .get(pk=store.pk, corp=access.corp)
        )
        _require_live(store)
        if store.live_code.deleted_at is None:
            services.delete_live_code(access=access, code=store.live_code)
        store.deleted_at = clock.now()
        store.save(update_fields=["deleted_at", "updated_at"])
        record(corp=access.corp, action="acquisition.store_delete", target=store)


def stores_of(access: Access) -> QuerySet[Store]:
    """The corp's stores (not deleted), for the console and the API."""
    require_view(access)
    return _live_stores(access.corp).select_related("live_code")


def get_store(access: Access, pk: int) -> Store:
    """A store of this corp; another corp's, a deleted one or an unknown id is not found."""
    store = stores_of(access).filter(pk=pk).first()
    if store is None:
        raise Http404
    return store


# --- the public landing page -------------------------------------------------------------------


def public_path(corp: Corp, store: Store | None = None) -> str:
    """The landing page's path: the picker, or straight to one store."""
    path = reverse("stores_public:stores", args=[corp.corpid])
    return f"{path}?store={store.public_key}" if store else path


def open_stores(corp: Corp) -> QuerySet[Store]:
    """Stores a customer may see: open, not deleted, with a working code."""
    return (
        _live_stores(corp)
        .filter(status=StoreStatus.OPEN, live_code__deleted_at__isnull=True)
        .exclude(live_code__qr_code="")
        .select_related("live_code")
    )


def find_open_store(corp: Corp, key: str) -> Store | None:
    """The open store a link names: by store number first, else by Qike's id."""
    key = (key or "").strip()
    if not key or len(key) > 32:
        return None
    stores = open_stores(corp)
    found = stores.filter(short_code__iexact=key).first()
    if found is None and key.isascii() and key.isdigit():
        found = stores.filter(pk=int(key)).first()
    return found


@dataclass
class Picker:
    """Province → city → district, built from where the corp's open stores are. A level with
    one choice is chosen for the customer; stores are shown once a city is chosen."""

    provinces: list[str]
    province: str
    cities: list[str]
    city: str
    districts: list[str]
    district: str
    stores: list[Store]


def _ordered(values: dict[str, int]) -> list[str]:
    """Places in the chain's own order (the smallest sort order of their stores), then by name."""
    return sorted(values, key=lambda place: (values[place], place))


def pick(corp: Corp, *, province: str = "", city: str = "", district: str = "") -> Picker:
    places = open_stores(corp).order_by().values_list("province", "city", "district", "sort_order")
    provinces: dict[str, int] = {}
    cities: dict[str, dict[str, int]] = defaultdict(dict)
    districts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for p, c, d, order in places:
        provinces[p] = min(order, provinces.get(p, order))
        cities[p][c] = min(order, cities[p].get(c, order))
        if d:
            districts[(p, c)][d] = min(order, districts[(p, c)].get(d, order))
    province_list = _ordered(provinces)
    if province not in provinces:
        province = province_list[0] if len(province_list) == 1 else ""
    city_list = _ordered(cities[province]) if province else []
    if city not in city_list:
        city = city_list[0] if len(city_list) == 1 else ""
    district_list = _ordered(districts[(province, city)]) if city else []
    if district not in district_list:
        district = ""
    shown: list[Store] = []
    if city:
        chosen = open_stores(corp).filter(province=province, city=city)
        shown = list(chosen.filter(district=district) if district else chosen)
    return Picker(province_list, province, city_list, city, district_list, district, shown)


# --- figures ----------------------------------------------------------------------------------


@dataclass
class StoreFigures:
    store: Store
    adds: int = 0
    losses: int = 0

    @property
    def net(self) -> int:
        return self.adds - self.losses


@dataclass
class RegionFigures:
    province: str
    city: str
    stores: int = 0
    adds: int = 0
    losses: int = 0

    @property
    def net(self) -> int:
        return self.adds - self.losses

    @property
    def adds_per_store(self) -> float:
        return round(self.adds / self.stores, 1) if self.stores else 0.0


def period_start(days: int) -> dt.datetime:
    """Midnight (Asia/Shanghai) `days - 1` days ago: the last `days` days, today included."""
    return day_start(clock.now()) - dt.timedelta(days=days - 1)


def _per_code(access: Access, since: dt.datetime) -> tuple[dict[int, int], dict[int, int]]:
    """Adds in the period and customers lost in it, per store code, for the user's members."""
    adds = LiveCodeAdd.objects.filter(corp=access.corp, code__store__isnull=False).filter(
        access.staff_filter("staff__")
    )
    added = adds.filter(added_at__gte=since).values("code_id").annotate(n=Count("id"))
    lost = (
        adds.filter(relation__status__in=LOST, relation__status_changed_at__gte=since)
        .values("code_id")
        .annotate(n=Count("id"))
    )
    return (
        {row["code_id"]: row["n"] for row in added},
        {row["code_id"]: row["n"] for row in lost},
    )


def compare(
    access: Access, *, days: int, province: str = ""
) -> tuple[list[StoreFigures], list[RegionFigures]]:
    """Every store's adds, losses and net over the last `days` days (today included), best
    first, and the same summed by city; optionally within one province."""
    stores = stores_of(access)
    if province:
        stores = stores.filter(province=province)
    added, lost = _per_code(access, period_start(days))
    rows = [
        StoreFigures(store, added.get(store.live_code_id, 0), lost.get(store.live_code_id, 0))
        for store in stores
    ]
    rows.sort(key=lambda row: (-row.adds, -row.net, row.store.name))
    regions: dict[tuple[str, str], RegionFigures] = {}
    for row in rows:
        key = (row.store.province, row.store.city)
        region = regions.setdefault(key, RegionFigures(*key))
        region.stores += 1
        region.adds += row.adds
        region.losses += row.losses
    by_region = sorted(regions.values(), key=lambda r: (-r.adds, r.province, r.city))
    return rows, by_region


def adds_since(access: Access, since: dt.datetime) -> dict[int, int]:
    """Adds per store code since a moment (the store list's column)."""
    return _per_code(access, since)[0]


# --- reading a spreadsheet ----------------------------------------------------------------------

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # a small file that unpacks to gigabytes is refused
MAX_ROWS = 2000


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # lazy; matched in English and in Chinese whatever the user's language
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers people use for it

    def names(self) -> set[str]:
        with translation.override("zh-hans"):
            chinese = str(self.label)
        with translation.override("en"):
            english = str(self.label)
        return {_header(name) for name in (self.key, chinese, english, *self.aliases)}


def _header(text: str) -> str:
    """A header as people write it, reduced: no spaces, no "*" or "(required)" notes, any case."""
    text = re.sub(r"[(（][^)）]*[)）]", "", str(text or ""))
    return re.sub(r"[\s*＊:：]", "", text).lower()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _open_workbook(data: bytes):
    """A workbook from untrusted bytes, or ValidationError saying why not."""
    not_xlsx = _("The file is not an Excel workbook (.xlsx): save it as .xlsx and try again.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except zipfile.BadZipFile:
        raise ValidationError(not_xlsx) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(_("The workbook is too large once unpacked."))
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file; all mean the same here
        raise ValidationError(not_xlsx) from None


def read_sheet(data: bytes, columns: list[Column]) -> list[tuple[int, dict[str, str]]]:
    """The first sheet's rows as text by column key, with their Excel row numbers (the header
    is the first non-empty row; empty rows are skipped; unknown columns are ignored). Raises
    ValidationError for a file that is not a workbook, lacks a required column or is too long."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 1024 // 1024}
        )
    book = _open_workbook(data)
    try:
        sheet = book.worksheets[0]
        positions: dict[str, int] | None = None
        rows: list[tuple[int, dict[str, str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            if positions is None:
                positions = _positions(cells, columns)
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(max)d rows: split it.") % {"max": MAX_ROWS}
                )
            rows.append(
                (number, {k: cells[i] if i < len(cells) else "" for k, i in positions.items()})
            )
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(_("The workbook could not be read.")) from None
    finally:
        book.close()
    if positions is None:
        raise ValidationError(_("The file is empty."))
    return rows


def _positions(header: list[str], columns: list[Column]) -> dict[str, int]:
    found: dict[str, int] = {}
    seen = [_header(cell) for cell in header]
    for column in columns:
        names = column.names()
        index = next((i for i, cell in enumerate(seen) if cell and cell in names), None)
        if index is not None:
            found[column.key] = index
    missing = [str(c.label) for c in columns if c.required and c.key not in found]
    if missing:
        raise ValidationError(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": "、".join(missing)}
        )
    return found


# --- importing stores -------------------------------------------------------------------------

STORE_COLUMNS = [
    Column("name", gettext_lazy("Store name"), True, ("门店名称", "门店", "店名", "name")),
    Column("short_code", gettext_lazy("Store number"), False, ("门店编号", "门店编码", "编号")),
    Column("province", gettext_lazy("Province"), True, ("省份", "省")),
    Column("city", gettext_lazy("City"), True, ("城市", "市")),
    Column("district", gettext_lazy("District"), False, ("区县", "区/县", "区")),
    Column("address", gettext_lazy("Address"), True, ("详细地址", "地址")),
    Column("phone", gettext_lazy("Store phone"), False, ("门店电话", "电话", "联系电话")),
    Column("opening_hours", gettext_lazy("Opening hours"), False, ("营业时间",)),
    Column("latitude", gettext_lazy("Latitude"), False, ("纬度",)),
    Column("longitude", gettext_lazy("Longitude"), False, ("经度",)),
    Column("staff", gettext_lazy("Staff (UserID or name)"), False, ("店员", "员工", "成员")),
    Column("departments", gettext_lazy("Departments (id or name)"), False, ("部门",)),
    Column("backup_staff", gettext_lazy("Backup staff"), False, ("备用店员", "备用成员")),
    Column("sort_order", gettext_lazy("Sort order"), False, ("排序",)),
    Column("status", gettext_lazy("Status"), False, ("状态", "营业状态")),
]
SEPARATORS = re.compile(r"[\s,，、;；/]+")
OPEN_WORDS = {"", "open", "营业", "营业中", "正常", "开业"}
CLOSED_WORDS = {"closed", "停业", "暂停营业", "关闭", "闭店", "关店"}


@dataclass(frozen=True)
class ImportDefaults:
    """Settings every imported store's code gets (the rows carry each store's staff)."""

    tag_ids: tuple[str, ...] = ()
    welcome_message_id: int | None = None
    daily_cap: int | None = None
    skip_verify: bool = True
    spread_evenly: bool = True

    def as_json(self) -> dict:
        return {**dataclasses.asdict(self), "tag_ids": list(self.tag_ids)}

    @classmethod
    def from_json(cls, data: dict) -> ImportDefaults:
        return cls(**{**data, "tag_ids": tuple(data.get("tag_ids", ()))})


class _Directory:
    """The corp's active staff and departments, read once per file, so a row may name a member
    by UserID or by name and a department by id or by name."""

    def __init__(self, corp: Corp) -> None:
        staff = Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE)
        self.userids = set(staff.values_list("userid", flat=True))
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for userid, name in staff.values_list("userid", "name"):
            if name:
                self.by_name[name].append(userid)
        self.departments: dict[str, list[int]] = defaultdict(list)
        for wecom_id, name in Department.objects.filter(corp=corp).values_list("wecom_id", "name"):
            self.departments[name].append(wecom_id)

    def userids_of(self, text: str) -> tuple[str, ...]:
        found = []
        for token in (t for t in SEPARATORS.split(text) if t):
            named = self.by_name.get(token, [])
            if token in self.userids or not named:
                found.append(token)  # an unknown one is reported by the live-code checks
            elif len(named) == 1:
                found.append(named[0])
            else:
                raise ValidationError(
                    _("Several staff members are called %(name)s: use the UserID.")
                    % {"name": token}
                )
        return tuple(found)

    def department_ids_of(self, text: str) -> tuple[int, ...]:
        found = []
        for token in (t for t in SEPARATORS.split(text) if t):
            if token.isascii() and token.isdigit():
                found.append(int(token))
                continue
            named = self.departments.get(token, [])
            if len(named) != 1:
                message = (
                    _("No department is called %(name)s.")
                    if not named
                    else _("Several departments are called %(name)s: use the department id.")
                )
                raise ValidationError(message % {"name": token})
            found.append(named[0])
        return tuple(found)


def _number(text: str, label: str) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text).quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise ValidationError(_("%(what)s is not a number.") % {"what": label}) from None


def _row_spec(values: dict[str, str], defaults: ImportDefaults, directory: _Directory) -> StoreSpec:
    status_word = values.get("status", "").strip().lower()
    if status_word in OPEN_WORDS:
        status = StoreStatus.OPEN
    elif status_word in CLOSED_WORDS:
        status = StoreStatus.CLOSED
    else:
        raise ValidationError(_("Status is 营业 (open) or 停业 (closed)."))
    sort_text = values.get("sort_order", "")
    if sort_text and not re.fullmatch(r"-?\d{1,9}", sort_text):
        raise ValidationError(_("Sort order is a whole number."))
    pool = LiveCodeSpec(
        name="",
        skip_verify=defaults.skip_verify,
        userids=directory.userids_of(values.get("staff", "")),
        department_ids=directory.department_ids_of(values.get("departments", "")),
        backup_userids=directory.userids_of(values.get("backup_staff", "")),
        tag_ids=defaults.tag_ids,
        welcome_message_id=defaults.welcome_message_id,
        daily_cap=defaults.daily_cap,
        spread_evenly=defaults.spread_evenly,
    )
    return StoreSpec(
        name=values.get("name", ""),
        short_code=values.get("short_code", ""),
        province=values.get("province", ""),
        city=values.get("city", ""),
        district=values.get("district", ""),
        address=values.get("address", ""),
        phone=values.get("phone", ""),
        opening_hours=values.get("opening_hours", ""),
        latitude=_number(values.get("latitude", ""), _("Latitude")),
        longitude=_number(values.get("longitude", ""), _("Longitude")),
        status=status,
        sort_order=int(sort_text or 0),
        pool=pool,
    )


def _same_file_clash(spec: StoreSpec, seen: dict[tuple, int], number: int) -> str:
    """A store the file already lists above (same number, or same name and address)."""
    keys = [("place", spec.name, spec.province, spec.city, spec.address)]
    if spec.short_code:
        keys.append(("number", spec.short_code.lower()))
    for key in keys:
        if key in seen:
            return _("The same store as row %(row)d.") % {"row": seen[key]}
    seen.update(dict.fromkeys(keys, number))
    return ""


def stage_import(
    *, access: Access, filename: str, data: bytes, defaults: ImportDefaults
) -> StoreImport:
    """Check an uploaded store list row by row and keep it for confirmation: no store is created
    and WeCom is not called. A file that cannot be read at all raises ValidationError and
    nothing is kept."""
    require_manage(access)
    rows = read_sheet(data, STORE_COLUMNS)
    if not rows:
        raise ValidationError(_("The file lists no stores below its header row."))
    directory = _Directory(access.corp)
    valid, problems = [], []
    seen: dict[tuple, int] = {}
    for number, values in rows:
        try:
            spec = check(access.corp, _row_spec(values, defaults, directory))
            clash = _same_file_clash(spec, seen, number)
            if clash:
                raise ValidationError(clash)
        except ValidationError as exc:
            problems.append({"row": number, "message": " ".join(exc.messages)})
            continue
        valid.append({"row": number, "values": values})
    return StoreImport.objects.create(
        corp=access.corp,
        filename=filename[:200],
        rows=valid,
        problems=problems,
        defaults=defaults.as_json(),
        created_by_id=access.user_id,
    )


def get_import(access: Access, pk: int) -> StoreImport:
    require_manage(access)
    batch = StoreImport.objects.filter(corp=access.corp, pk=pk).first()
    if batch is None:
        raise Http404
    return batch


def confirm_import(*, access: Access, batch: StoreImport) -> StoreImport:
    """The user has seen the problems and wants the valid rows: create their stores (a job,
    because each store is a WeCom call and a chain has hundreds)."""
    require_manage(access)
    with transaction.atomic():
        batch = StoreImport.objects.select_for_update().get(pk=batch.pk, corp=access.corp)
        if batch.status != StoreImportStatus.PENDING:
            raise ValidationError(_("This import has already been confirmed."))
        if not batch.rows:
            raise ValidationError(_("No row of this file can be imported."))
        batch.status = StoreImportStatus.RUNNING
        batch.confirmed_by_id = access.user_id
        batch.confirmed_at = clock.now()
        batch.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        from qike.acquisition.store_tasks import import_stores_job

        enqueue_on_commit(import_stores_job, batch.pk)
    return batch


def cancel_import(*, access: Access, batch: StoreImport) -> None:
    """Forget a file that was never confirmed."""
    require_manage(access)
    deleted, _rows = StoreImport.objects.filter(
        pk=batch.pk, corp=access.corp, status=StoreImportStatus.PENDING
    ).delete()
    if not deleted:
        raise ValidationError(_("This import has already been confirmed."))


def _importer(batch: StoreImport) -> Access | None:
    """The confirming user's access now: someone who lost the right meanwhile imports nothing."""
    user = User.objects.filter(pk=batch.confirmed_by_id).first()
    if user is None:
        return None
    try:
        access = access_for(user, batch.corp)
    except Http404:
        return None
    return access if may_manage(access) else None


def _import_row(batch_id: int, item: dict, access: Access | None, directory: _Directory) -> None:
    """Create one row's store and note the result with it (once, however often this runs)."""
    row = str(item["row"])
    with transaction.atomic():
        batch = StoreImport.objects.select_for_update().get(pk=batch_id)
        if row in batch.created or row in batch.failed:
            return
        try:
            if access is None:
                raise PermissionDenied(_("The user who confirmed may no longer change stores."))
            defaults = ImportDefaults.from_json(batch.defaults)
            spec = _row_spec(item["values"], defaults, directory)
            with transaction.atomic():
                batch.created[row] = create_store(access=access, spec=spec).pk
        except (ValidationError, PermissionDenied) as exc:
            batch.failed[row] = " ".join(getattr(exc, "messages", None) or [str(exc)])
        except WeComError as exc:
            batch.failed[row] = describe_wecom_error(exc)
        batch.save(update_fields=["created", "failed"])


def run_import(*, batch_id: int) -> StoreImport | None:
    """Create the stores of a confirmed import, row by row; a row WeCom or Qike refuses is noted
    and the others go on. Safe to run again: rows already done are skipped."""
    batch = StoreImport.objects.filter(pk=batch_id, status=StoreImportStatus.RUNNING).first()
    if batch is None:
        return None
    access = _importer(batch)
    directory = _Directory(batch.corp)
    for item in batch.rows:
        _import_row(batch.pk, item, access, directory)
    StoreImport.objects.filter(pk=batch.pk).update(
        status=StoreImportStatus.DONE, finished_at=clock.now()
    )
    batch.refresh_from_db()
    return batch


def template_workbook() -> bytes:
    """An empty store list with the columns in the user's language and one example row."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Stores")[:31]
    sheet.append([f"{c.label}*" if c.required else str(c.label) for c in STORE_COLUMNS])
    sheet.append(
        [
            _("Nanjing Road store"),
            "SH-001",
            _("Shanghai"),
            _("Shanghai"),
            _("Huangpu District"),
            _("100 Nanjing East Road"),
            "021-63210000",
            "10:00-22:00",
            "31.235929",
            "121.480539",
            "zhangsan, lisi",
            "",
            "",
            "1",
            _("open"),
        ]
    )
    for index, column in enumerate(STORE_COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 18
        if column.key in ("short_code", "phone"):
            for row in range(2, 502):  # keep leading zeros: these columns are text
                sheet.cell(row=row, column=index).number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
