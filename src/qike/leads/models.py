"""Lead capture (留资): public forms that collect a prospect's details, hand them to a staff
member by rule, and show that member's QR code through a contact way whose state names the lead."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.fields import EncryptedTextField
from qike.core.models import CorpOwned

LEAD_STATE_PREFIX = "ld-"
DEFAULT_WAY_DAYS = 30  # an unconverted lead's contact way is deleted after this many days


class FieldKey(models.TextChoices):
    """The questions a form may ask; each maps to one column of Lead."""

    NAME = "name", _("Name")
    PHONE = "phone", _("Mobile phone")
    COMPANY = "company", _("Company")
    NEED = "need", _("What do you need?")
    REGION = "region", _("Region")
    NOTE = "note", _("Anything else")


# Longest answer accepted per question (characters).
FIELD_MAX_LENGTH = {
    FieldKey.NAME: 32,
    FieldKey.PHONE: 11,
    FieldKey.COMPANY: 64,
    FieldKey.NEED: 200,
    FieldKey.REGION: 32,
    FieldKey.NOTE: 500,
}


class AssignRule(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin within the staff pool")
    BY_FIELD = "by_field", _("By an answer (e.g. region), then round robin")


class LeadForm(CorpOwned):
    name = models.CharField(_("name"), max_length=64)
    slug = models.SlugField(_("address"), max_length=40)
    title = models.CharField(_("page title"), max_length=64, blank=True)
    intro = models.TextField(_("introduction"), max_length=500, blank=True)
    # [{"key": "name", "required": true}, …] in the order the page asks them.
    fields = models.JSONField(_("fields"), default=list)
    rule = models.CharField(
        _("assignment rule"),
        max_length=16,
        choices=AssignRule.choices,
        default=AssignRule.ROUND_ROBIN,
    )
    assign_field = models.CharField(
        _("assign by field"), max_length=16, choices=FieldKey.choices, blank=True
    )
    assign_map = models.JSONField(_("answer → staff"), default=dict, blank=True)  # value → userid
    pool = models.ManyToManyField("org.Staff", related_name="+", verbose_name=_("staff pool"))
    next_turn = models.PositiveIntegerField(default=0)  # round-robin position in the pool
    tags = models.ManyToManyField("tags.Tag", blank=True, related_name="+", verbose_name=_("tags"))
    welcome_message = models.ForeignKey(
        "engagement.WelcomeMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("welcome message"),
    )
    thank_you = models.TextField(_("thank-you text"), max_length=500, blank=True)
    way_days = models.PositiveIntegerField(
        _("keep an unconverted QR code for (days)"), default=DEFAULT_WAY_DAYS
    )
    is_open = models.BooleanField(_("accepting submissions"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "slug"], name="leads_form_slug_unique"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def field_keys(self) -> list[str]:
        return [f["key"] for f in self.fields]

    def required_keys(self) -> set[str]:
        return {f["key"] for f in self.fields if f.get("required")}


class Lead(CorpOwned):
    """One submission. `converted_at` is set when the customer's add is confirmed in WeCom."""

    form = models.ForeignKey(LeadForm, on_delete=models.CASCADE, related_name="leads")
    name = models.CharField(_("name"), max_length=32, blank=True)
    phone = EncryptedTextField(_("mobile phone"), blank=True)  # personal data: encrypted at rest
    company = models.CharField(_("company"), max_length=64, blank=True)
    need = models.CharField(_("need"), max_length=200, blank=True)
    region = models.CharField(_("region"), max_length=32, blank=True)
    note = models.TextField(_("note"), max_length=500, blank=True)
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    state = models.CharField(_("channel state"), max_length=30, blank=True)
    config_id = models.CharField(_("WeCom config ID"), max_length=64, blank=True)
    qr_code = models.URLField(_("QR code URL"), max_length=512, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    relation = models.ForeignKey(
        "customers.FollowRelation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    bound_at = models.DateTimeField(null=True, blank=True)  # first add (maybe half) seen
    converted_at = models.DateTimeField(null=True, blank=True)  # confirmed add, remark + tags set
    way_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "state"],
                condition=~models.Q(state=""),
                name="leads_lead_state_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["corp", "created_at"], name="leads_lead_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.state
