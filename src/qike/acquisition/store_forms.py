"""The store form (the store, then its code's staff and settings, as on a live code), the import
upload form and the figures' filters. The services check everything again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.acquisition.forms import LiveCodeForm, initial_for
from qike.acquisition.models import Store, StoreStatus
from qike.acquisition.stores import STORE_FIELDS, ImportDefaults, StoreSpec
from qike.core.models import Corp

REGION_LISTS = {
    "province": "store-provinces",
    "city": "store-cities",
    "district": "store-districts",
}
PERIODS = [(7, _("Last 7 days")), (30, _("Last 30 days")), (90, _("Last 90 days"))]


def _coordinate(label: str, limit: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-limit,
        max_value=limit,
        help_text=_("GCJ-02, as Amap or Tencent Maps show it."),
    )


class StoreForm(LiveCodeForm):
    """A live code form without its channel fields, with the store's fields first."""

    short_code = forms.CharField(
        label=_("Store number"),
        max_length=32,
        required=False,
        help_text=_("Your own number for the store, e.g. SH-001; links may use it: ?store=SH-001"),
    )
    province = forms.CharField(label=_("Province"), max_length=32)
    city = forms.CharField(label=_("City"), max_length=32)
    district = forms.CharField(label=_("District"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=200)
    phone = forms.CharField(label=_("Store phone"), max_length=32, required=False)
    opening_hours = forms.CharField(
        label=_("Opening hours"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "10:00-22:00"}),
    )
    latitude = _coordinate(_("Latitude"), 90)
    longitude = _coordinate(_("Longitude"), 180)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=StoreStatus.choices,
        initial=StoreStatus.OPEN,
        help_text=_("A closed store leaves the public page; its printed code keeps working."),
    )
    sort_order = forms.IntegerField(
        label=_("Sort order"),
        initial=0,
        required=False,
        min_value=-999_999_999,
        max_value=999_999_999,
        help_text=_("Smaller numbers come first on the public page."),
    )

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, corp=corp, **kwargs)
        del self.fields["channel_group"]
        del self.fields["remark"]
        self.fields["name"].label = _("Store name")
        self.fields["staff"].help_text = _("The store's staff: customers who scan add one of them.")
        for name, datalist in REGION_LISTS.items():
            self.fields[name].widget.attrs["list"] = datalist
        self.order_fields(STORE_FIELDS)

    def clean_sort_order(self) -> int:
        return self.cleaned_data.get("sort_order") or 0

    def store_spec(self) -> StoreSpec:
        return StoreSpec(pool=self.spec(), **{n: self.cleaned_data.get(n) for n in STORE_FIELDS})


def store_initial(store: Store) -> dict:
    return {
        **initial_for(store.live_code),
        **{name: getattr(store, name) for name in STORE_FIELDS},
    }


class ImportForm(LiveCodeForm):
    """The file, and the code settings every imported store gets (rows name their own staff)."""

    file = forms.FileField(
        label=_("Store list (.xlsx)"),
        help_text=_("One store per row below a header row; download the template for the columns."),
    )

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, corp=corp, **kwargs)
        for name in ("name", "channel_group", "remark", "staff", "departments", "backup_staff"):
            del self.fields[name]
        del self.fields["shifts"]
        self.order_fields(["file"])

    def defaults(self) -> ImportDefaults:
        data = self.cleaned_data
        welcome = data.get("welcome_message")
        return ImportDefaults(
            tag_ids=tuple(t.wecom_id for t in data.get("tags") or ()),
            welcome_message_id=welcome.pk if welcome else None,
            daily_cap=data.get("daily_cap"),
            skip_verify=data.get("skip_verify", False),
            spread_evenly=data.get("spread_evenly", False),
        )


class CompareForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"), choices=PERIODS, coerce=int, initial=30, required=False
    )
    province = forms.CharField(label=_("Province"), max_length=32, required=False)


class StoreFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=64, required=False)
    province = forms.CharField(label=_("Province"), max_length=32, required=False)
    city = forms.CharField(label=_("City"), max_length=32, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *StoreStatus.choices], required=False
    )
