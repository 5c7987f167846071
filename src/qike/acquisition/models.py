"""Live codes (渠道活码) and staff QR cards (对外名片): WeCom contact ways whose `state` tells Qike
which channel brought each customer, and whose member list Qike steers (caps, shifts, spreading)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

LIVE_CODE_STATE_PREFIX = "lc-"
STAFF_CARD_STATE_PREFIX = "sc-"


class LiveCode(CorpOwned):
    """A multi-member contact way (type 2). `current_userids` is the member list WeCom has now, as
    Qike last set it, so Qike calls WeCom only when the list really changes."""

    name = models.CharField(_("name"), max_length=64)
    channel_group = models.CharField(_("channel group"), max_length=64, blank=True)
    remark = models.CharField(_("remark"), max_length=200, blank=True)
    skip_verify = models.BooleanField(_("add without verification"), default=True)
    state = models.CharField(_("channel state"), max_length=30, blank=True)
    config_id = models.CharField(_("WeCom config ID"), max_length=64, blank=True)
    qr_code = models.URLField(_("QR code URL"), max_length=512, blank=True)
    welcome_message = models.ForeignKey(
        "engagement.WelcomeMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("welcome message"),
    )
    tags = models.ManyToManyField("tags.Tag", blank=True, related_name="+", verbose_name=_("tags"))
    daily_cap = models.PositiveIntegerField(_("daily cap per staff member"), null=True, blank=True)
    spread_evenly = models.BooleanField(_("spread evenly"), default=True)
    current_userids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "state"],
                condition=~models.Q(state=""),
                name="acquisition_livecode_state_unique",
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class PoolRole(models.TextChoices):
    MAIN = "main", _("pool")
    BACKUP = "backup", _("backup")


class PoolMember(CorpOwned):
    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="members")
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=8, choices=PoolRole.choices, default=PoolRole.MAIN)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code", "staff", "role"], name="acquisition_pool_member_unique"
            )
        ]


class PoolDepartment(CorpOwned):
    """A department in the main pool: its members and its sub-departments' members take part."""

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="departments")
    department = models.ForeignKey("org.Department", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code", "department"], name="acquisition_pool_department_unique"
            )
        ]


class Schedule(CorpOwned):
    """A shift: on these weekdays (0 = Monday) from `start` until `end` (Asia/Shanghai), these
    members take the code's adds instead of the main pool."""

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="schedules")
    weekdays = models.JSONField(_("weekdays"), default=list)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))
    staff = models.ManyToManyField("org.Staff", related_name="+", verbose_name=_("staff"))

    class Meta:
        ordering = ["id"]


class LiveCodeAdd(CorpOwned):
    """One add attributed to a code: the basis of caps, spreading and the code's figures."""

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="adds")
    relation = models.ForeignKey(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="+"
    )
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "relation"], name="acquisition_add_unique")
        ]
        indexes = [models.Index(fields=["code", "added_at"], name="acquisition_add_day_idx")]


class StaffCard(CorpOwned):
    """A staff member's own QR card (对外名片): a single-member contact way (type 1)."""

    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("channel state"), max_length=30)
    config_id = models.CharField(_("WeCom config ID"), max_length=64)
    qr_code = models.URLField(_("QR code URL"), max_length=512)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "staff"], name="acquisition_card_unique"),
        ]


# --- acquisition links (获客助手) -------------------------------------------------------------

ACQUISITION_LINK_STATE_PREFIX = "ca-"
ACQUISITION_ADD_WAY = 16  # WeCom's add_way for customers who arrive by an acquisition link
DEFAULT_FREE_ADDS = 50  # seed article 000 (2023 rules): 50 free adds per corp …
DEFAULT_PRICE_FEN = 300  # … then ¥3 per successful add


class AcquisitionLink(CorpOwned):
    """A WeCom acquisition link (获客链接). `state` is the customer_channel Qike appends to the bare
    link, so adds without a sub-channel are still recognised when they arrive."""

    name = models.CharField(_("name"), max_length=64)
    link_id = models.CharField(_("WeCom link ID"), max_length=64, blank=True)
    url = models.URLField(_("link URL"), max_length=512, blank=True)
    skip_verify = models.BooleanField(_("add without verification"), default=True)
    state = models.CharField(_("channel state"), max_length=64, blank=True)
    userids = models.JSONField(_("staff"), default=list, blank=True)
    department_ids = models.JSONField(_("departments"), default=list, blank=True)
    welcome_message = models.ForeignKey(
        "engagement.WelcomeMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("welcome message"),
    )
    tags = models.ManyToManyField("tags.Tag", blank=True, related_name="+", verbose_name=_("tags"))
    unavailable_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def url_for(self, state: str) -> str:
        return f"{self.url}?customer_channel={state}" if self.url else ""


class LinkChannel(CorpOwned):
    """A sub-channel of a link: the link URL with `?customer_channel=<state>`."""

    link = models.ForeignKey(AcquisitionLink, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(_("name"), max_length=64)
    state = models.CharField(_("channel state"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "state"], name="acquisition_linkchannel_state_unique"
            )
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return self.link.url_for(self.state)


class LinkAdd(CorpOwned):
    """One customer acquired through a link, attributed once (the relation is unique) however the
    news arrives: the add event, the friend_request event or polling WeCom's customer list."""

    link = models.ForeignKey(AcquisitionLink, on_delete=models.CASCADE, related_name="adds")
    channel = models.ForeignKey(
        LinkChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="adds"
    )
    relation = models.OneToOneField(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="+"
    )
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()
    cost_fen = models.PositiveIntegerField(_("cost (fen)"), default=0)
    via = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["link", "added_at"], name="acquisition_linkadd_day_idx")]


class LinkDailyStat(CorpOwned):
    """WeCom's figures for one link and one Beijing day (customer_acquisition/statistic)."""

    link = models.ForeignKey(AcquisitionLink, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)
    new_customers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "day"], name="acquisition_linkstat_unique")
        ]
        ordering = ["day"]


class LinkSettings(CorpOwned):
    """A corp's acquisition-link pricing, Qike's count of adds so far, and the last live balance."""

    free_adds = models.PositiveIntegerField(_("free adds"), default=DEFAULT_FREE_ADDS)
    price_fen = models.PositiveIntegerField(_("price per add (fen)"), default=DEFAULT_PRICE_FEN)
    adds_counted = models.PositiveIntegerField(_("adds counted"), default=0)
    balance = models.IntegerField(null=True, blank=True)
    total_used = models.IntegerField(null=True, blank=True)
    balance_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp"], name="acquisition_linksettings_one_per_corp")
        ]


class QuotaAlertKind(models.TextChoices):
    LOW = "balance_low", _("balance low")
    EXHAUSTED = "balance_exhausted", _("balance exhausted")


class QuotaAlert(CorpOwned):
    """A balance_low / balance_exhausted event: admins are told once per event (the event's time
    identifies it, so a redelivered event finds its alert)."""

    kind = models.CharField(max_length=32, choices=QuotaAlertKind.choices)
    event_at = models.DateTimeField()
    notified = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "kind", "event_at"], name="acquisition_quotaalert_unique"
            )
        ]
        ordering = ["-event_at"]


# --- store codes (门店活码) ---------------------------------------------------------------------

STORE_CODE_KIND = "store_code"  # the Source kind and timeline kind of adds through a store's code


class StoreStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class Store(CorpOwned):
    """A shop of a chain. Its customers add the store's staff through the store's own live code
    (one contact way per store), so caps, shifts, backups, spreading, tags and the welcome message
    are the live code's. Only open stores appear on the public landing page."""

    name = models.CharField(_("name"), max_length=64)
    short_code = models.CharField(_("store number"), max_length=32, blank=True)
    province = models.CharField(_("province"), max_length=32)
    city = models.CharField(_("city"), max_length=32)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200)
    phone = models.CharField(_("store phone"), max_length=32, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=64, blank=True)
    # GCJ-02, as Chinese maps (Amap, Tencent) give them.
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=StoreStatus.choices, default=StoreStatus.OPEN
    )
    sort_order = models.IntegerField(_("sort order"), default=0)
    live_code = models.OneToOneField(
        LiveCode, on_delete=models.CASCADE, related_name="store", verbose_name=_("live code")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "short_code"],
                condition=~models.Q(short_code="") & models.Q(deleted_at__isnull=True),
                name="acquisition_store_number_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["corp", "province", "city"], name="acquisition_store_region_idx")
        ]
        ordering = ["sort_order", "province", "city", "district", "name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def region(self) -> str:
        """上海市 静安区 rather than 上海市 上海市 静安区 for a municipality."""
        city = "" if self.city == self.province else self.city
        return " ".join(part for part in (self.province, city, self.district) if part)

    @property
    def public_key(self) -> str:
        """What the landing page's `?store=` takes: the store number, else Qike's id."""
        return self.short_code or str(self.pk)


class StoreImportStatus(models.TextChoices):
    PENDING = "pending", _("waiting for confirmation")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")


class StoreImport(CorpOwned):
    """An uploaded store list, checked row by row. Nothing is created until a user confirms;
    then a job creates the valid rows' stores one by one, noting each row's result."""

    filename = models.CharField(_("file"), max_length=200)
    rows = models.JSONField(default=list)  # [{"row": n, "values": {...}}] of the valid rows
    problems = models.JSONField(default=list)  # [{"row": n, "message": "..."}]
    defaults = models.JSONField(default=dict)  # tags, welcome message, cap for every store
    status = models.CharField(
        max_length=8, choices=StoreImportStatus.choices, default=StoreImportStatus.PENDING
    )
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.JSONField(default=dict)  # row → store id
    failed = models.JSONField(default=dict)  # row → why WeCom or Qike refused it
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
