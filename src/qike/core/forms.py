"""Forms of the corp settings page and the API tokens page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qike.api.models import Scope
from qike.core.models import Corp
from qike.org.access import Access
from qike.org.models import Membership


class CorpSettingsForm(forms.Form):
    corpid = forms.CharField(
        label=_("CorpID"),
        max_length=64,
        strip=True,
        help_text=_(
            "My Corp → Corp information in WeCom's admin console. Changing it changes the "
            "callback URL."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=128, required=False, strip=True)
    agent_id = forms.IntegerField(
        label=_("Agent id"),
        required=False,
        min_value=1,
        help_text=_("The AgentId of the app whose secret you enter below."),
    )
    api_base_url = forms.CharField(
        label=_("API base URL"),
        max_length=200,
        strip=True,
        help_text=_(
            "https://qyapi.weixin.qq.com for real WeCom; the simulator's URL for wecomsim."
        ),
    )
    secret = forms.CharField(
        label=_("App secret"),
        required=False,
        strip=True,
        # Never sent back to the browser: the field is always empty when the page is shown.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current secret."),
    )

    @classmethod
    def for_corp(cls, corp: Corp) -> CorpSettingsForm:
        return cls(
            initial={
                "corpid": corp.corpid,
                "name": corp.name,
                "agent_id": corp.agent_id,
                "api_base_url": corp.api_base_url,
            }
        )

    def apply_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class ActingUserField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.get_username()})" if name else obj.get_username()


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        strip=True,
        help_text=_("What will use the token, e.g. “CRM sync”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        initial=[Scope.READ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Write includes read."),
    )
    user = ActingUserField(
        label=_("Acts as"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Me"),
        help_text=_(
            "The token sees and does what this account may: its role and departments apply."
        ),
    )

    def __init__(self, data=None, *, access: Access, **kwargs) -> None:
        super().__init__(data, **kwargs)
        members = Membership.objects.filter(corp=access.corp).values("user_id")
        self.fields["user"].queryset = User.objects.filter(pk__in=members, is_active=True).order_by(
            "username"
        )
