"""API shapes of referral campaigns, codes, referrals, the leaderboard and reward tasks. Customers
by external_userid, staff by WeCom UserID, tags by WeCom id."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from qike.api.schemas import CursorPageMeta, Id, Text


class CampaignIn(Schema):
    name: Text = Field(..., min_length=1, max_length=64)
    starts_on: dt.date = Field(..., description="First day (Asia/Shanghai).")
    ends_on: dt.date | None = Field(None, description="Last day, inclusive; null: open-ended.")
    intro: Text = Field("", max_length=500, description="Shown on the share page.")
    tags: list[str] = Field(default_factory=list, description="Corp tags for referred customers.")
    welcome_message_id: Id | None = None
    skip_verify: bool = Field(True, description="For codes generated from now on.")
    reward_every: int = Field(3, ge=0, le=1000, description="N new customers per reward; 0: none.")
    reward_text: Text = Field("", max_length=200, description="The reward, e.g. send a coupon.")


class CampaignOut(Schema):
    id: int
    name: str
    status: str = Field(..., description="upcoming, active or ended (today, Asia/Shanghai).")
    starts_on: dt.date
    ends_on: dt.date | None
    intro: str
    tags: list[str]
    welcome_message_id: int | None
    skip_verify: bool
    reward_every: int
    reward_text: str
    created_at: dt.datetime


class CodeIn(Schema):
    external_userid: Text = Field(..., min_length=1, max_length=64, description="The referrer.")
    userid: Text = Field(
        ..., min_length=1, max_length=64, description="The staff member who follows them."
    )


class CodeOut(Schema):
    id: int
    campaign_id: int
    external_userid: str = Field(..., description="The referrer.")
    referrer_name: str
    staff: str = Field(..., description="WeCom UserID of the member friends add.")
    state: str = Field(..., description="The contact way's state, rf-<id>.")
    config_id: str
    qr_code: str
    share_url: str = Field(..., description="The page the referrer forwards to friends.")
    counted: int = Field(..., description="New customers this referrer brought (all time).")
    way_deleted: bool
    created_at: dt.datetime


class CodePage(CursorPageMeta):
    items: list[CodeOut]


class BulkIn(Schema):
    tags: list[str] = Field(default_factory=list, description="Customers with any of these tags…")
    staff: list[str] = Field(default_factory=list, description="… and/or of these members.")


class BulkOut(Schema):
    created: int
    existing: int
    failed: list[str] = Field(..., description="Customers whose code WeCom refused, with why.")


class ReferralOut(Schema):
    id: int
    campaign_id: int
    code_id: int
    referrer: str = Field(..., description="external_userid of the referrer.")
    referred: str = Field(..., description="external_userid of the referred customer.")
    referred_name: str
    staff: str
    referred_at: dt.datetime
    is_new: bool = Field(..., description="No relation with anyone in the corp before.")
    counted: bool = Field(..., description="New, and added while the campaign ran.")


class ReferralPage(CursorPageMeta):
    items: list[ReferralOut]


class RankOut(Schema):
    rank: int
    code_id: int
    referrer: str
    referrer_name: str
    staff: str
    staff_name: str
    referrals: int = Field(..., description="New customers referred in the period.")


class StaffTotalOut(Schema):
    staff: str
    staff_name: str
    referrals: int
    referrers: int


class LeaderboardOut(Schema):
    period: str
    since: dt.datetime | None
    referrers: list[RankOut]
    staff: list[StaffTotalOut]


class RewardOut(Schema):
    id: int
    campaign_id: int
    code_id: int
    referrer: str
    referrer_name: str
    staff: str
    milestone: int = Field(..., description="The referrer's new customers when it was earned.")
    reward_text: str
    status: str = Field(..., description="open or done.")
    created_at: dt.datetime
    notified_at: dt.datetime | None
    notify_error: str
    done_at: dt.datetime | None
    done_by: str


class RewardPage(CursorPageMeta):
    items: list[RewardOut]
