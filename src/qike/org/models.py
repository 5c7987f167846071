from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

MAX_DEPARTMENT_DEPTH = 14


class Department(CorpOwned):
    wecom_id = models.BigIntegerField(_("department id"))
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    parent_wecom_id = models.BigIntegerField(_("parent id"), default=0)
    order = models.BigIntegerField(_("order"), default=0)
    # "/1/2/7/": the ids from the root down to this one, so a subtree is one indexed prefix match.
    path = models.CharField(max_length=1024, default="/")
    depth = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "wecom_id"], name="org_department_unique"),
        ]
        indexes = [models.Index(fields=["corp", "path"], name="org_department_path_idx")]
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class StaffStatus(models.IntegerChoices):
    ACTIVE = 1, _("activated")
    DISABLED = 2, _("disabled")
    INACTIVE = 4, _("not activated")
    LEFT = 5, _("left the corp")


class Staff(CorpOwned):
    userid = models.CharField(_("UserID"), max_length=64)
    name = models.CharField(_("name"), max_length=64, blank=True)
    alias = models.CharField(_("alias"), max_length=64, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    email = models.CharField(_("email"), max_length=128, blank=True)
    position = models.CharField(_("position"), max_length=128, blank=True)
    gender = models.CharField(_("gender"), max_length=1, blank=True)
    avatar = models.URLField(_("avatar"), max_length=512, blank=True)
    status = models.PositiveSmallIntegerField(
        _("status"), choices=StaffStatus.choices, default=StaffStatus.ACTIVE
    )
    main_department = models.BigIntegerField(_("main department"), null=True, blank=True)
    departments = models.ManyToManyField(
        Department, through="StaffDepartment", related_name="staff"
    )
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "staff"
        constraints = [
            models.UniqueConstraint(fields=["corp", "userid"], name="org_staff_userid_unique"),
            models.UniqueConstraint(
                fields=["corp", "mobile"],
                condition=~models.Q(mobile=""),
                name="org_staff_mobile_unique",
            ),
            models.UniqueConstraint(
                fields=["corp", "email"],
                condition=~models.Q(email=""),
                name="org_staff_email_unique",
            ),
        ]
        ordering = ["userid"]

    def __str__(self) -> str:
        return f"{self.name} ({self.userid})" if self.name else self.userid


class StaffDepartment(CorpOwned):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    is_leader = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "department"], name="org_staff_dept_unique"),
        ]


class Role(models.TextChoices):
    """What a console or API user may see and do in one corp (super admins see every corp)."""

    CORP_ADMIN = "corp_admin", _("corp admin")
    OPERATIONS = "operations", _("operations")
    MANAGER = "manager", _("department manager")
    STAFF = "staff", _("staff")


class Membership(CorpOwned):
    """A console user's role in one corp. A department manager sees the subtrees of `departments`
    (by default the departments they lead); staff see the customers they follow themselves."""

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    staff = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
        verbose_name=_("WeCom member"),
    )
    departments = models.ManyToManyField(
        Department, blank=True, related_name="managers", verbose_name=_("managed departments")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "corp"], name="org_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.corp_id}: {self.role}"
