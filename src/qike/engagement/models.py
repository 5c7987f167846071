from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

MAX_ATTACHMENTS = 9  # WeCom's limit for send_welcome_msg and mass messages
MAX_TEXT_BYTES = 4000
MAX_LINK_TITLE_BYTES = 128
MAX_LINK_DESC_BYTES = 512
MAX_MINIPROGRAM_TITLE_BYTES = 64
NICKNAME = "%NICKNAME%"


def media_storage() -> FileSystemStorage:
    """Welcome-message files live in Qike (QIKE_HOME/media) and are uploaded to WeCom on send."""
    return FileSystemStorage(location=settings.QIKE_HOME / "media")


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("image")
    LINK = "link", _("link")
    MINIPROGRAM = "miniprogram", _("mini program")
    FILE = "file", _("file")
    VIDEO = "video", _("video")


class WelcomeMessage(CorpOwned):
    """A welcome message (欢迎语): text plus up to 9 attachments, optionally varying by time of day.

    `attachments` holds WeCom's attachment objects ({"msgtype": "image"|"link"|"miniprogram"|"video"|
    "file", <msgtype>: {...}}) as Qike stores them: image, video and file (and a mini program's
    cover) name a `WelcomeMedia` by its key "media" and are uploaded to WeCom (media/upload) on send.
    `variants` are time-of-day alternatives of the text: [{"start": "HH:MM", "end": "HH:MM", "text":
    ...}], checked in order in Asia/Shanghai; the first that covers the moment wins, and its text
    replaces the message's text (the attachments stay the same). An end before the start wraps over
    midnight ("22:00"–"06:00").

    `item_ids` are content-library items (`ContentItem` pks), in the order chosen, sent after the
    message's own attachments: text items' text is appended to the text (after a blank line), the
    other kinds become attachments at send time (`library.attachments_for_send`, tracked links per
    customer). A plain id list, not a relation, so an item deleted from the library stays visible
    as missing in the editor; sends skip it.
    """

    name = models.CharField(_("name"), max_length=64)
    text = models.TextField(_("text"), blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    item_ids = models.JSONField(_("library items"), default=list, blank=True)
    variants = models.JSONField(_("time-of-day variants"), default=list, blank=True)
    # What %NICKNAME% becomes when WeCom does not tell the customer's name (a half-added customer).
    nickname_fallback = models.CharField(_("name when unknown"), max_length=32, blank=True)
    is_corp_default = models.BooleanField(_("corp default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp"],
                condition=models.Q(is_corp_default=True),
                name="engagement_one_corp_default_welcome",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WelcomeMedia(CorpOwned):
    """A file kept in Qike for welcome messages, with the WeCom temporary media_id it was last
    uploaded as (valid 3 days), so sends within that time reuse it."""

    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), storage=media_storage, upload_to="welcome/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    media_id = models.CharField(max_length=255, blank=True)
    media_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class StaffWelcome(CorpOwned):
    """A staff member's own default welcome message (成员欢迎语)."""

    staff = models.OneToOneField("org.Staff", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(WelcomeMessage, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.staff_id} → {self.message_id}"


class SendStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    EXPIRED = "expired", _("code expired")
    NO_CODE = "no_code", _("no welcome code")
    NO_MESSAGE = "no_message", _("nothing configured")
    DUPLICATE = "duplicate", _("already welcomed")  # a second code for the same new friendship


class ChosenBy(models.TextChoices):
    SOURCE = "source", _("channel's own")
    STAFF = "staff", _("staff default")
    CORP = "corp", _("corp default")


class WelcomeSend(CorpOwned):
    """One welcome for one add event, claimed before WeCom is called so that a code is used at
    most once, however often the callback arrives or is replayed."""

    welcome_code = models.CharField(_("welcome code"), max_length=128, blank=True)
    # The code, or for adds without one the add itself: one row per add, whatever is replayed.
    event_key = models.CharField(max_length=255)
    userid = models.CharField(_("staff UserID"), max_length=64)
    external_userid = models.CharField(_("external UserID"), max_length=64)
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("channel state"), max_length=64, blank=True)
    is_half = models.BooleanField(default=False)
    event_at = models.DateTimeField(_("added at"))
    status = models.CharField(
        _("result"), max_length=16, choices=SendStatus.choices, default=SendStatus.PENDING
    )
    message = models.ForeignKey(
        WelcomeMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_name = models.CharField(_("welcome message"), max_length=64, blank=True)
    chosen_by = models.CharField(
        _("chosen by"), max_length=16, choices=ChosenBy.choices, blank=True
    )
    source_label = models.CharField(_("channel"), max_length=128, blank=True)
    variant = models.CharField(_("time-of-day variant"), max_length=16, blank=True)
    text = models.TextField(_("text"), blank=True)
    attachments = models.JSONField(default=list, blank=True)
    errcode = models.IntegerField(null=True, blank=True)
    errmsg = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(_("received"))
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "welcome_code"],
                condition=~models.Q(welcome_code=""),
                name="engagement_send_once_per_code",
            ),
            models.UniqueConstraint(fields=["corp", "event_key"], name="engagement_send_per_add"),
        ]
        indexes = [
            models.Index(fields=["corp", "-created_at", "-id"], name="engagement_send_newest_idx"),
            models.Index(
                fields=["corp", "status", "created_at"], name="engagement_send_status_idx"
            ),
            # The urgent path's "freshest pending send" and the sweep of stale ones: only pending
            # rows, so the index stays small however many sends the corp has made.
            models.Index(
                fields=["corp", "-event_at", "-id"],
                condition=models.Q(status="pending"),
                name="engagement_send_pending_idx",
            ),
            # "Was this new friendship welcomed already?"
            models.Index(
                fields=["corp", "external_userid", "userid"], name="engagement_send_friend_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.userid} → {self.external_userid}"


# --- content library (素材库) -------------------------------------------------------------------


class ContentKind(models.TextChoices):
    TEXT = "text", _("text")
    IMAGE = "image", _("image")
    LINK = "link", _("link")
    MINIPROGRAM = "miniprogram", _("mini program")
    FILE = "file", _("file")
    VIDEO = "video", _("video")


class ContentFolder(CorpOwned):
    """A folder of the content library (one level: operations teams sort by campaign or topic)."""

    name = models.CharField(_("name"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["corp", "name"], name="engagement_folder_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ContentTag(CorpOwned):
    """A label of library items (not a customer tag)."""

    name = models.CharField(_("name"), max_length=32)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["corp", "name"], name="engagement_content_tag_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ContentItem(CorpOwned):
    """One piece of content: a text, an image, a link (title, description, cover, URL), a mini
    program (title, AppID, page, cover), a file or a video. Files stay in Qike; WeCom gets them as
    temporary media (`ItemMedia`) when they are sent."""

    kind = models.CharField(_("kind"), max_length=16, choices=ContentKind.choices)
    title = models.CharField(_("title"), max_length=128)
    text = models.TextField(_("text"), blank=True)  # a text item's text; a link's description
    url = models.URLField(_("web address"), max_length=1024, blank=True)
    appid = models.CharField(_("mini program AppID"), max_length=64, blank=True)
    page = models.CharField(_("mini program page"), max_length=255, blank=True)
    file = models.FileField(
        _("file"), storage=media_storage, upload_to="content/%Y/%m/", blank=True
    )
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    cover = models.FileField(
        _("cover image"), storage=media_storage, upload_to="content/covers/%Y/%m/", blank=True
    )
    cover_url = models.URLField(_("cover image address"), max_length=1024, blank=True)
    # The permanent URL media/uploadimg gave for the cover (link picurl in mass messages).
    cover_wecom_url = models.URLField(max_length=1024, blank=True)
    tracked = models.BooleanField(_("track opens"), default=True)
    folder = models.ForeignKey(
        ContentFolder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        verbose_name=_("folder"),
    )
    tags = models.ManyToManyField(ContentTag, blank=True, related_name="items")
    sent_count = models.PositiveIntegerField(_("times sent"), default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["corp", "kind"], name="engagement_item_kind_idx")]

    def __str__(self) -> str:
        return self.title


class MediaPurpose(models.TextChoices):
    MESSAGE = "message", _("message")  # media/upload: welcome, mass and chat messages
    MOMENT = "moment", _("moments")  # media/upload_attachment, attachment_type=1


class ItemMedia(CorpOwned):
    """The WeCom temporary media_id an item's file (role "file") or cover (role "cover") was last
    uploaded as for one purpose; valid 3 days from WeCom's created_at."""

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="media")
    purpose = models.CharField(max_length=16, choices=MediaPurpose.choices)
    role = models.CharField(max_length=8)
    media_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField()
    uploaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "purpose", "role"], name="engagement_item_media_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}/{self.purpose}/{self.role}"


class TrackedLink(CorpOwned):
    """A redirect /l/<token>/ to a link item's URL; one per item, customer (when personalised)
    and campaign label, so the same customer gets the same address every time."""

    token = models.CharField(max_length=32, unique=True)
    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="tracked_links")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    campaign_ref = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "customer", "campaign_ref"],
                name="engagement_tracked_link_once",
            ),
            models.UniqueConstraint(
                fields=["item", "campaign_ref"],
                condition=models.Q(customer__isnull=True),
                name="engagement_tracked_link_anonymous_once",
            ),
        ]

    def __str__(self) -> str:
        return self.token


class LinkOpen(CorpOwned):
    """One open of a tracked link."""

    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="opens")
    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="opens")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign_ref = models.CharField(max_length=128, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["item", "opened_at"], name="engagement_open_item_idx")]

    def __str__(self) -> str:
        return f"{self.link_id} @ {self.opened_at:%Y-%m-%d %H:%M}"


# --- quick replies (话术库) ----------------------------------------------------------------------


class QuickReplyGroup(CorpOwned):
    name = models.CharField(_("name"), max_length=64)
    position = models.PositiveIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["corp", "name"], name="engagement_reply_group_name"),
        ]

    def __str__(self) -> str:
        return self.name


class QuickReply(CorpOwned):
    """A scripted answer: text plus library items as attachments, found by title, keywords or
    text; `used_count` grows each time a staff member uses it."""

    group = models.ForeignKey(
        QuickReplyGroup, on_delete=models.CASCADE, related_name="replies", verbose_name=_("group")
    )
    title = models.CharField(_("title"), max_length=128)
    text = models.TextField(_("text"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=255, blank=True)
    items = models.ManyToManyField(ContentItem, blank=True, related_name="quick_replies")
    used_count = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group__position", "title", "id"]

    def __str__(self) -> str:
        return self.title
