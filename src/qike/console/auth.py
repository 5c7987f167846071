"""Console login: staff sign in with their WeCom userid.

Today the password is one an admin set in Qike (Users & roles). The seam for WeCom OAuth
(网页授权登录 / 扫码登录) is `user_for_userid`: a later `WeComOAuthBackend.authenticate(request,
code=...)` exchanges the OAuth `code` for a userid through `qike.wecom` (`auth/getuserinfo`, which
only answers inside WeCom or after a QR scan) and maps it to a Qike user with the same function, so
both ways in end at the same account and the same roles.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest

from qike.org.models import Membership


def user_for_userid(userid: str) -> User | None:
    """The Qike user behind a WeCom userid: an account named after the userid, else the one account
    linked to a WeCom member with that userid. WeCom userids are case-insensitive."""
    userid = (userid or "").strip()
    if not userid:
        return None
    named = list(User.objects.filter(username__iexact=userid)[:2])
    if len(named) == 1:
        return named[0]
    if named:  # "Li" and "li" both exist: only the exact spelling is unambiguous
        return next((u for u in named if u.username == userid), None)
    linked = set(
        Membership.objects.filter(staff__userid__iexact=userid).values_list("user_id", flat=True)
    )
    if len(linked) != 1:
        return None  # unknown, or two accounts claim the member: refuse rather than guess
    return User.objects.filter(pk=linked.pop()).first()


class UserIdBackend(ModelBackend):
    """Password login by WeCom userid (falls back on Django's own username rules for admins)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ) -> User | None:
        if username is None or password is None:
            return None
        user = user_for_userid(username)
        if user is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
