"""Console routes for referrals (included by console/urls_main.py)."""

from django.urls import path

from qike.referrals import views

urlpatterns = [
    path("referrals/", views.campaign_list, name="referrals"),
    path("referrals/new/", views.campaign_new, name="referral_campaign_new"),
    path("referrals/rewards/", views.reward_list, name="referral_rewards"),
    path("referrals/rewards/<int:pk>/done/", views.reward_done, name="referral_reward_done"),
    path("referrals/rewards/<int:pk>/notify/", views.reward_notify, name="referral_reward_notify"),
    path("referrals/<int:pk>/", views.campaign_detail, name="referral_campaign"),
    path("referrals/<int:pk>/edit/", views.campaign_edit, name="referral_campaign_edit"),
    path("referrals/<int:pk>/codes/", views.code_new, name="referral_code_new"),
    path("referrals/<int:pk>/codes/bulk/", views.codes_bulk, name="referral_codes_bulk"),
]
