"""The segment editor's form: POST fields → the rules' JSON (validated by `rules_from_dict` and
`check_rules`, whose messages land on the matching fields)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qike.customers.forms import tag_choices
from qike.customers.models import RelationStatus
from qike.org.access import Access
from qike.org.models import Department, Staff, StaffStatus
from qike.segments import services
from qike.segments.models import DESCRIPTION_MAX, NAME_MAX, Segment
from qike.segments.rules import MAX_DAYS, SegmentRules
from qike.tags.models import Tag

TAG_RULES = ("tags_any", "tags_all", "tags_none")
LIST_RULES = ("tags_any", "tags_all", "tags_none", "states", "staff", "departments", "stages")
VALUE_RULES = ("added_from", "added_to", "added_within_days", "interacted_within_days")
VALUE_RULES += ("inactive_for_days",)


def channel_choices(access: Access) -> list[tuple[str, str]]:
    """The corp's channels by their `state`: live codes (a store's code under the store's name),
    acquisition links and their sub-channels."""
    from qike.acquisition.models import AcquisitionLink, LinkChannel, LiveCode, Store

    corp = access.corp
    stores = dict(
        Store.objects.filter(corp=corp, live_code__isnull=False).values_list("live_code_id", "name")
    )
    choices: list[tuple[str, str]] = []
    for code in LiveCode.objects.filter(corp=corp).exclude(state="").order_by("name"):
        label = _("Store: %(name)s") if code.pk in stores else _("Live code: %(name)s")
        choices.append((code.state, str(label) % {"name": stores.get(code.pk, code.name)}))
    for link in AcquisitionLink.objects.filter(corp=corp).exclude(state="").order_by("name"):
        choices.append((link.state, str(_("Link: %(name)s")) % {"name": link.name}))
    for channel in LinkChannel.objects.filter(corp=corp).select_related("link").order_by("id"):
        label = str(_("Link: %(name)s")) % {"name": f"{channel.link.name} · {channel.name}"}
        choices.append((channel.state, label))
    return choices


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX, required=False
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    tags_any = forms.MultipleChoiceField(label=_("Any of these tags"), required=False)
    tags_all = forms.MultipleChoiceField(label=_("All of these tags"), required=False)
    tags_none = forms.MultipleChoiceField(label=_("None of these tags"), required=False)
    states = forms.MultipleChoiceField(label=_("Channels"), required=False)
    other_state = forms.CharField(label=_("Other channel state"), max_length=64, required=False)
    staff = forms.MultipleChoiceField(label=_("Staff"), required=False)
    departments = forms.MultipleChoiceField(
        label=_("Departments (with sub-departments)"), required=False
    )
    added_from = forms.DateField(label=_("Added from"), required=False)
    added_to = forms.DateField(label=_("Added to"), required=False)
    added_within_days = forms.IntegerField(
        label=_("Added in the last days"), required=False, min_value=1, max_value=MAX_DAYS
    )
    statuses = forms.MultipleChoiceField(
        label=_("Status"), required=False, choices=RelationStatus.choices
    )
    include_half = forms.BooleanField(label=_("Include half-added customers"), required=False)
    interacted_within_days = forms.IntegerField(
        label=_("Interacted in the last days"), required=False, min_value=1, max_value=MAX_DAYS
    )
    inactive_for_days = forms.IntegerField(
        label=_("No interaction for days"), required=False, min_value=1, max_value=MAX_DAYS
    )
    stages = forms.MultipleChoiceField(label=_("Lifecycle stages"), required=False)

    def __init__(self, data=None, *, access: Access, segment: Segment | None = None) -> None:
        super().__init__(data, initial=_initial(segment) if segment else None)
        from qike.lifecycle import services as lifecycle

        self.access = access
        corp = access.corp
        members = list(
            Staff.objects.filter(corp=corp)
            .exclude(status=StaffStatus.LEFT)
            .order_by("name", "userid")
        )
        self.fields["owner"].choices = [("", _("No owner"))] + [(s.userid, str(s)) for s in members]
        self.fields["staff"].choices = [(s.userid, str(s)) for s in members]
        self.tag_groups = tag_choices(access)
        flat = [choice for _group, choices in self.tag_groups for choice in choices]
        for name in ("tags_any", "tags_all", "tags_none"):
            self.fields[name].choices = flat
        self.fields["states"].choices = channel_choices(access)
        self.fields["departments"].choices = [
            (str(d.wecom_id), f"{'— ' * (d.depth - 1)}{d.name}")
            for d in Department.objects.filter(corp=corp).order_by("path")
        ]
        self.fields["stages"].choices = [(str(s.pk), s.name) for s in lifecycle.stages(corp)]
        self._keep_rule_tags(segment, data, {value for value, _label in flat})
        if segment is not None:  # rules saved through the API may name what the lists lack
            _keep(self.fields["states"], segment.segment_rules.states)
        self.rules: SegmentRules | None = None

    def _keep_rule_tags(self, segment: Segment | None, data, corp_tags: set[str]) -> None:
        """The lists offer corp tags; a rule on another tag (a personal tag, saved through the
        API) is kept and shown in its own group, checked, so saving never drops it. Tags posted
        back from such a group are accepted when they are the corp's (the live preview posts
        them without the segment); other unknown values stay invalid choices."""
        in_rules: list[str] = []
        if segment is not None:
            rules = segment.segment_rules
            in_rules = [*rules.tags_any, *rules.tags_all, *rules.tags_none]
        posted: list[str] = []
        if data is not None and hasattr(data, "getlist"):
            posted = [v for name in TAG_RULES for v in data.getlist(name)]
        asked = [v for v in dict.fromkeys([*in_rules, *posted]) if v not in corp_tags]
        if not asked:
            return
        names = dict(
            Tag.objects.filter(corp=self.access.corp, wecom_id__in=asked).values_list(
                "wecom_id", "name"
            )
        )
        kept = [v for v in asked if v in names or v in in_rules]
        if not kept:
            return
        choices = [(v, names.get(v, v)) for v in kept]
        self.tag_groups = [*self.tag_groups, (str(_("Other tags in the rules")), choices)]
        for name in TAG_RULES:
            self.fields[name].choices = [*self.fields[name].choices, *choices]

    def rules_dict(self) -> dict:
        data = self.cleaned_data
        rules: dict = {name: data.get(name) or [] for name in LIST_RULES}
        if data.get("other_state"):
            rules["states"] = [*rules["states"], data["other_state"]]
        for name in VALUE_RULES:
            rules[name] = data.get(name)
        rules["statuses"] = data.get("statuses") or []
        rules["include_half"] = bool(data.get("include_half"))
        return rules

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.rules = services.parse_rules(corp=self.access.corp, data=self.rules_dict())
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        return cleaned

    def require_name(self) -> bool:
        """Saving needs a name; counting and previewing do not."""
        if not self.cleaned_data.get("name", "").strip():
            self.add_error("name", _("Give the segment a name."))
            return False
        return True


def _keep(field: forms.ChoiceField, values: tuple[str, ...]) -> None:
    known = {value for value, _label in field.choices}
    field.choices = [*field.choices, *[(v, v) for v in values if v not in known]]


def _initial(segment: Segment) -> dict:
    rules = segment.segment_rules
    initial = {
        "name": segment.name,
        "description": segment.description,
        "owner": segment.owner.userid if segment.owner else "",
        "include_half": rules.include_half,
        "statuses": list(rules.statuses),
    }
    for name in ("tags_any", "tags_all", "tags_none", "states", "staff"):
        initial[name] = list(getattr(rules, name))
    initial["departments"] = [str(d) for d in rules.departments]
    initial["stages"] = [str(s) for s in rules.stages]
    for name in VALUE_RULES:
        initial[name] = getattr(rules, name)
    return initial
