"""The WeCom server API over httpx: access tokens, retries, cursors and typed methods.

One client speaks for one (corpid, secret). It never logs or raises the secret or a token: both
travel in URL query strings, so errors name the API path only, and httpx's request log is redacted.

Retry policy (API-FACTS §1):
- 40014/42001/42009: the token went bad (expired early, or replaced by another process): drop it
  from the store, take a fresh one and retry once.
- -1 (system busy): retry up to 3 times after a short back-off.
- 45009/45033 (rate or concurrency limit): back off exponentially, bounded, at most
  `max_rate_limit_waits` times.
- Network failures: retried only where WeCom cannot have acted on the request twice: GETs, and
  requests that never left (connection refused). A POST that may have reached WeCom is not repeated,
  since it could send a welcome message or create a tag twice.
"""

from __future__ import annotations

import functools
import json as jsonlib
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import certifi
import httpx

from qike.wecom import errors
from qike.wecom.calls_groupmsg import GroupMessageCalls
from qike.wecom.calls_moments import MomentCalls
from qike.wecom.errors import WeComError, WeComTransportError
from qike.wecom.tokens import MemoryTokenStore, TokenStore, token_key

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"

log = logging.getLogger("qike.wecom")

TOKEN_SAFETY_MARGIN = 300  # seconds: use a token no closer than this to its expiry
BUSY_RETRIES = 3  # WeCom: on -1 retry at most 3 times
BUSY_BACKOFF = 0.2  # seconds, doubled per retry
RATE_LIMIT_BACKOFF = 2.0  # seconds, doubled per wait
RATE_LIMIT_MAX_WAIT = 60.0  # a tripped minute limit blocks for 60 s; waiting longer gains nothing
TRANSPORT_RETRIES = 2
TRANSPORT_BACKOFF = 0.5
BATCH_USERIDS = 100  # batch/get_by_user takes at most 100 userids per call
TRANSFER_BATCH = 100  # transfer_customer takes at most 100 external_userids per call

T = TypeVar("T")


# --- keeping secrets out of logs ----------------------------------------------------------------

_SECRET_QUERY = re.compile(r"((?:access_token|corpsecret)=)[^&\s\"']*")


def redact(text: str) -> str:
    """`text` with access_token and corpsecret query values masked."""
    return _SECRET_QUERY.sub(r"\1***", text)


class _RedactSecrets(logging.Filter):
    """httpx logs every request URL at INFO; ours carry the token or the corp secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(arg)) if isinstance(arg, str | httpx.URL) else arg for arg in record.args
            )
        return True


_REDACT_FILTER = _RedactSecrets()
logging.getLogger("httpx").addFilter(_REDACT_FILTER)


# --- cursors --------------------------------------------------------------------------------------


def iter_cursor(fetch: Callable[[str], tuple[list[T], str]]) -> Iterator[list[T]]:
    """Yield the non-empty pages of a cursor-paginated list, starting from the empty cursor.

    `fetch(cursor)` returns (page, next_cursor); an empty next_cursor ends the list. WeCom may
    return an empty page that still has a next_cursor, so empty pages are followed but not yielded.
    """
    cursor = ""
    seen: set[str] = set()
    while True:
        page, next_cursor = fetch(cursor)
        if page:
            yield page
        if not next_cursor:
            return
        if next_cursor in seen:
            # Following it again would loop for ever; stopping silently would lose rows.
            raise WeComError(errors.BAD_RESPONSE, "next_cursor repeats an earlier cursor", "cursor")
        seen.add(next_cursor)
        cursor = next_cursor


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _payload(answer: dict) -> dict:
    """The answer without WeCom's errcode/errmsg envelope."""
    return {k: v for k, v in answer.items() if k not in ("errcode", "errmsg")}


def _given(**fields: Any) -> dict:
    """Only the fields the caller set: WeCom treats a present-but-empty field as an update."""
    return {k: v for k, v in fields.items() if v is not None}


class _Backoff:
    """Counts the retries of one call; says how long to wait before the next, or None to give up."""

    def __init__(self, max_rate_limit_waits: int) -> None:
        self.max_rate_limit_waits = max_rate_limit_waits
        self.busy = 0
        self.rate_limited = 0

    def delay(self, errcode: int) -> float | None:
        if errcode == errors.SYSTEM_BUSY and self.busy < BUSY_RETRIES:
            self.busy += 1
            return BUSY_BACKOFF * 2 ** (self.busy - 1)
        if errcode in errors.RATE_LIMIT_ERRORS and self.rate_limited < self.max_rate_limit_waits:
            self.rate_limited += 1
            return min(RATE_LIMIT_BACKOFF * 2 ** (self.rate_limited - 1), RATE_LIMIT_MAX_WAIT)
        return None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle, which cost more than
    the WeCom call itself when each job opened a client (SSL contexts are safe to share)."""
    return ssl.create_default_context(cafile=certifi.where())


class WeComClient(GroupMessageCalls, MomentCalls):
    def __init__(
        self,
        corpid: str,
        secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token_store: TokenStore | None = None,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        max_rate_limit_waits: int = 3,
    ) -> None:
        self.corpid = corpid
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.token_store: TokenStore = (
            token_store if token_store is not None else MemoryTokenStore()
        )
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(verify=_tls_context())
        self.timeout = timeout
        self._sleep = sleep
        self.max_rate_limit_waits = max_rate_limit_waits
        self._key = token_key(corpid, secret)
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WeComClient(corpid={self.corpid!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> WeComClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- tokens -----------------------------------------------------------------------------------

    def get_token(self, *, force: bool = False) -> str:
        """A valid access token from the store, or a new one from WeCom (always new with force)."""
        if not force and (token := self.token_store.get(self._key)):
            return token
        with self._token_lock:
            # Another thread may have fetched one while we waited for the lock.
            if not force and (token := self.token_store.get(self._key)):
                return token
            return self._fetch_token()

    def _fetch_token(self) -> str:
        params = {"corpid": self.corpid, "corpsecret": self._secret}
        answer = self._checked("GET", "gettoken", params, None)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeComTransportError(errors.BAD_RESPONSE, "gettoken answered no token", "gettoken")
        expires_in = int(answer.get("expires_in") or 7200)
        margin = min(TOKEN_SAFETY_MARGIN, expires_in // 10)
        self.token_store.set(self._key, token, expires_in - margin)
        log.info("wecom.token corpid=%s expires_in=%s", self.corpid, expires_in)
        return token

    def _replace_token(self, bad: str) -> str:
        """A token other than `bad`: one another process has stored meanwhile, or a fresh one."""
        self.token_store.invalidate(self._key, bad)
        token = self.token_store.get(self._key)
        if token and token != bad:
            return token
        with self._token_lock:
            return self._fetch_token()

    # --- calls ------------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: dict | None = None,
    ) -> dict:
        """Call `/cgi-bin/<path>` with the access token; the JSON answer, or WeComError."""
        path = path.strip("/")
        token = self.get_token()
        refreshed = False
        backoff = _Backoff(self.max_rate_limit_waits)
        while True:
            try:
                query = {**(params or {}), "access_token": token}
                return self._checked(method, path, query, json, backoff)
            except WeComError as exc:
                if exc.errcode not in errors.TOKEN_ERRORS or refreshed:
                    raise
                log.info("wecom.token_rejected corpid=%s errcode=%s", self.corpid, exc.errcode)
                token = self._replace_token(token)
                refreshed = True

    def _checked(
        self,
        method: str,
        path: str,
        params: dict,
        body: dict | None,
        backoff: _Backoff | None = None,
    ) -> dict:
        """One request with the busy/rate-limit retries; raises WeComError on a non-zero errcode."""
        backoff = backoff or _Backoff(self.max_rate_limit_waits)
        while True:
            answer = self._send(method, path, params, body)
            errcode = _errcode(answer, path)
            if errcode == errors.OK:
                return answer
            wait = backoff.delay(errcode)
            if wait is None:
                raise WeComError(errcode, self._scrub(str(answer.get("errmsg", ""))), path)
            log.warning("wecom.retry path=%s errcode=%s wait=%.1fs", path, errcode, wait)
            self._sleep(wait)

    def _send(self, method: str, path: str, params: dict, body: dict | None) -> dict:
        """One HTTP exchange, retrying network failures where a repeat is harmless."""
        method = method.upper()
        url = f"{self.base_url}/cgi-bin/{path}"
        content = None
        headers = {}
        if body is not None:
            # WeCom wants UTF-8 text, not \\u escapes, in names and messages.
            content = jsonlib.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=self.timeout,
                )
                return self._decode(response, path)
            except (httpx.HTTPError, WeComTransportError) as exc:
                if attempt >= TRANSPORT_RETRIES or not _repeatable(method, exc):
                    raise self._transport_error(exc, path) from None
            attempt += 1
            log.warning("wecom.transport_retry path=%s attempt=%s", path, attempt)
            self._sleep(TRANSPORT_BACKOFF * attempt)

    def _decode(self, response: httpx.Response, path: str) -> dict:
        if response.status_code >= 500:
            raise WeComTransportError(errors.BAD_RESPONSE, f"HTTP {response.status_code}", path)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise WeComTransportError(
                errors.BAD_RESPONSE,
                f"HTTP {response.status_code}, answer is not a JSON object",
                path,
            )
        return answer

    def _transport_error(self, exc: Exception, path: str) -> WeComTransportError:
        if isinstance(exc, WeComTransportError):
            return exc
        # httpx messages can quote the URL, and so the token or secret: mask them.
        detail = self._scrub(f"{type(exc).__name__}: {exc}")
        return WeComTransportError(errors.TRANSPORT_ERROR, detail, path)

    def _scrub(self, text: str) -> str:
        text = redact(text)
        if self._secret:
            text = text.replace(self._secret, "***")
        return text

    def _get(self, path: str, **params: Any) -> dict:
        return self.call("GET", path, params=_given(**params))

    def _post(self, path: str, body: dict) -> dict:
        return self.call("POST", path, json=body)

    # --- contacts (通讯录) ------------------------------------------------------------------------

    def department_list(self, id: int | None = None) -> list[dict]:
        """The department `id` and all below it; the whole visible tree without `id`."""
        return self._get("department/list", id=id).get("department", [])

    def department_create(
        self,
        *,
        name: str,
        parentid: int,
        order: int | None = None,
        id: int | None = None,
        name_en: str | None = None,
    ) -> int:
        body = _given(name=name, parentid=parentid, order=order, id=id, name_en=name_en)
        return int(self._post("department/create", body)["id"])

    def user_get(self, userid: str) -> dict:
        return _payload(self._get("user/get", userid=userid))

    def user_simplelist(self, department_id: int, fetch_child: bool = False) -> list[dict]:
        answer = self._get(
            "user/simplelist", department_id=department_id, fetch_child=int(fetch_child)
        )
        return answer.get("userlist", [])

    def user_list(self, department_id: int, fetch_child: bool = False) -> list[dict]:
        answer = self._get("user/list", department_id=department_id, fetch_child=int(fetch_child))
        return answer.get("userlist", [])

    # --- external contacts (客户) -----------------------------------------------------------------

    def get_follow_user_list(self) -> list[str]:
        return self._get("externalcontact/get_follow_user_list").get("follow_user", [])

    def list_external_contacts(self, userid: str) -> list[str]:
        try:
            answer = self._get("externalcontact/list", userid=userid)
        except WeComError as exc:
            # WeCom answers 84061 rather than an empty list for a member without customers.
            if exc.errcode == errors.NO_EXTERNAL_CONTACT:
                return []
            raise
        return answer.get("external_userid", [])

    def get_external_contact(self, external_userid: str) -> dict:
        """{"external_contact": …, "follow_user": [every follower]}: WeCom pages follow_user past
        500 followers, and the pages are merged here."""
        first: dict = {}

        def fetch(cursor: str) -> tuple[list[dict], str]:
            answer = self._get(
                "externalcontact/get", external_userid=external_userid, cursor=cursor
            )
            if not first:
                first.update(answer)
            return answer.get("follow_user", []), answer.get("next_cursor", "") or ""

        follow_user = [user for page in iter_cursor(fetch) for user in page]
        return {"external_contact": first.get("external_contact", {}), "follow_user": follow_user}

    def batch_get_by_user(
        self, userid_list: Sequence[str], *, cursor: str = "", limit: int = 100
    ) -> tuple[list[dict], str]:
        """One page of the customers of up to 100 members: (external_contact_list, next_cursor)."""
        if not userid_list or len(userid_list) > BATCH_USERIDS:
            raise ValueError(f"userid_list must hold 1 to {BATCH_USERIDS} userids")
        body = {"userid_list": list(userid_list), "cursor": cursor, "limit": limit}
        answer = self._post("externalcontact/batch/get_by_user", body)
        return answer.get("external_contact_list", []), answer.get("next_cursor", "") or ""

    def iter_batch_get_by_user(
        self, userid_list: Sequence[str], *, limit: int = 100
    ) -> Iterator[list[dict]]:
        """Pages of external_contact_list for any number of members, 100 members per request."""
        for chunk in _chunks(list(userid_list), BATCH_USERIDS):
            yield from iter_cursor(
                lambda cursor, chunk=chunk: self.batch_get_by_user(
                    chunk, cursor=cursor, limit=limit
                )
            )

    def remark(
        self,
        *,
        userid: str,
        external_userid: str,
        remark: str | None = None,
        description: str | None = None,
        remark_company: str | None = None,
        remark_mobiles: list[str] | None = None,
        remark_pic_mediaid: str | None = None,
    ) -> None:
        """Set the follower's remarks; only the given fields change (remark_mobiles=[""] clears)."""
        changes = _given(
            remark=remark,
            description=description,
            remark_company=remark_company,
            remark_mobiles=remark_mobiles,
            remark_pic_mediaid=remark_pic_mediaid,
        )
        if not changes:
            raise ValueError("remark needs at least one field to change")
        self._post(
            "externalcontact/remark",
            {"userid": userid, "external_userid": external_userid, **changes},
        )

    # --- corp tags (企业标签) ---------------------------------------------------------------------

    def get_corp_tag_list(
        self, *, tag_ids: Iterable[str] | None = None, group_ids: Iterable[str] | None = None
    ) -> list[dict]:
        body = _given(
            tag_id=list(tag_ids) if tag_ids is not None else None,
            group_id=list(group_ids) if group_ids is not None else None,
        )
        return self._post("externalcontact/get_corp_tag_list", body).get("tag_group", [])

    def add_corp_tag(
        self,
        *,
        tags: list[dict],
        group_id: str | None = None,
        group_name: str | None = None,
        order: int | None = None,
    ) -> dict:
        """Add tags ({name, order?}) to a group, by id or by name (created when new); the group."""
        if not tags:
            raise ValueError("WeCom does not allow an empty tag group")
        if not group_id and not group_name:
            raise ValueError("add_corp_tag needs group_id or group_name")
        body = _given(group_id=group_id, group_name=group_name, order=order, tag=tags)
        return self._post("externalcontact/add_corp_tag", body).get("tag_group", {})

    def edit_corp_tag(self, *, id: str, name: str | None = None, order: int | None = None) -> None:
        self._post("externalcontact/edit_corp_tag", _given(id=id, name=name, order=order))

    def del_corp_tag(self, *, tag_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        tag_ids, group_ids = list(tag_ids), list(group_ids)
        if not tag_ids and not group_ids:
            raise ValueError("del_corp_tag needs tag_ids or group_ids")
        body = {"tag_id": tag_ids, "group_id": group_ids}
        self._post("externalcontact/del_corp_tag", {k: v for k, v in body.items() if v})

    def mark_tag(
        self,
        *,
        userid: str,
        external_userid: str,
        add_tag: Iterable[str] = (),
        remove_tag: Iterable[str] = (),
    ) -> None:
        add_tag, remove_tag = list(add_tag), list(remove_tag)
        if not add_tag and not remove_tag:
            raise ValueError("mark_tag needs add_tag or remove_tag")
        body = {
            "userid": userid,
            "external_userid": external_userid,
            "add_tag": add_tag,
            "remove_tag": remove_tag,
        }
        self._post("externalcontact/mark_tag", body)

    # --- contact ways (联系我) --------------------------------------------------------------------

    def add_contact_way(self, **body: Any) -> dict:
        """{config_id, qr_code}; qr_code only for scene=2. Fields as in API-FACTS §3.2."""
        return _payload(self._post("externalcontact/add_contact_way", _given(**body)))

    def get_contact_way(self, config_id: str) -> dict:
        answer = self._post("externalcontact/get_contact_way", {"config_id": config_id})
        return answer.get("contact_way", {})

    def update_contact_way(self, config_id: str, **fields: Any) -> None:
        """Overwrites the given fields; `user`/`party` replace the previous lists."""
        body = {"config_id": config_id, **_given(**fields)}
        self._post("externalcontact/update_contact_way", body)

    def list_contact_way(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        cursor: str = "",
        limit: int = 100,
    ) -> tuple[list[str], str]:
        """One page of config_ids (API-created ways only) and the next cursor."""
        body = _given(start_time=start_time, end_time=end_time, cursor=cursor, limit=limit)
        answer = self._post("externalcontact/list_contact_way", body)
        ids = [way["config_id"] for way in answer.get("contact_way", [])]
        return ids, answer.get("next_cursor", "") or ""

    def del_contact_way(self, config_id: str) -> None:
        self._post("externalcontact/del_contact_way", {"config_id": config_id})

    # --- welcome messages (欢迎语) ----------------------------------------------------------------

    def send_welcome_msg(
        self,
        *,
        welcome_code: str,
        text: str | None = None,
        attachments: list[dict] | None = None,
    ) -> None:
        """Send within 20 s of the add event, once; 41051 (WELCOME_CODE_USED) if another app won."""
        if not text and not attachments:
            raise ValueError("a welcome message needs text or attachments")
        body: dict[str, Any] = {"welcome_code": welcome_code}
        if text:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = attachments
        self._post("externalcontact/send_welcome_msg", body)

    # --- welcome messages: temporary media (素材) for attachments -------------------------------

    def upload_media(self, *, media_type: str, filename: str, content: bytes) -> dict:
        """media/upload: {type, media_id, created_at (int)}; the media_id is valid 3 days and is
        what image, video and file attachments (and a mini program's cover) carry."""
        answer = self._upload("media/upload", {"type": media_type}, filename, content)
        return self._temp_media(answer, media_type, "media/upload")

    def upload_attachment(
        self, *, media_type: str, filename: str, content: bytes, attachment_type: int = 1
    ) -> dict:
        """media/upload_attachment (attachment_type 1 moments, 2 product album): {type, media_id,
        created_at (int)}; valid 3 days. Moments (add_moment_task) take only these media_ids."""
        answer = self._upload(
            "media/upload_attachment",
            {"media_type": media_type, "attachment_type": attachment_type},
            filename,
            content,
        )
        return self._temp_media(answer, media_type, "media/upload_attachment")

    def upload_image(self, *, filename: str, content: bytes) -> str:
        """media/uploadimg: a permanent image URL (at most 100 a day per corp)."""
        answer = self._upload("media/uploadimg", {}, filename, content)
        url = answer.get("url")
        if not isinstance(url, str) or not url:
            raise WeComTransportError(errors.BAD_RESPONSE, "answered no url", "media/uploadimg")
        return url

    @staticmethod
    def _temp_media(answer: dict, media_type: str, path: str) -> dict:
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeComTransportError(errors.BAD_RESPONSE, "answered no media_id", path)
        # The official sample sends created_at as a string, some SDK fixtures as an int.
        created_at = str(answer.get("created_at") or "0")
        return {
            "type": answer.get("type", media_type),
            "media_id": media_id,
            "created_at": int(created_at) if created_at.isdigit() else 0,
        }

    def _upload(self, path: str, params: dict, filename: str, content: bytes) -> dict:
        """A multipart POST (field `media`) with the same token and busy/rate-limit handling as
        JSON calls. Uploading twice is harmless (two media_ids), so network failures are retried."""
        token = self.get_token()
        refreshed = False
        backoff = _Backoff(self.max_rate_limit_waits)
        url = f"{self.base_url}/cgi-bin/{path}"
        attempt = 0
        while True:
            try:
                response = self._http.post(
                    url,
                    params={**params, "access_token": token},
                    files={"media": (filename, content)},
                    timeout=self.timeout,
                )
                answer = self._decode(response, path)
            except (httpx.HTTPError, WeComTransportError) as exc:
                if attempt >= TRANSPORT_RETRIES:
                    raise self._transport_error(exc, path) from None
                attempt += 1
                self._sleep(TRANSPORT_BACKOFF * attempt)
                continue
            errcode = _errcode(answer, path)
            if errcode == errors.OK:
                return answer
            if errcode in errors.TOKEN_ERRORS and not refreshed:
                token, refreshed = self._replace_token(token), True
                continue
            wait = backoff.delay(errcode)
            if wait is None:
                raise WeComError(errcode, self._scrub(str(answer.get("errmsg", ""))), path)
            self._sleep(wait)

    # acquisition links (获客助手) -------------------------------------------------------------

    def create_acquisition_link(
        self, *, link_name: str, user_list: list[str], department_list: list[int], skip_verify: bool
    ) -> dict:
        """link{link_id, link_name, url, create_time}. Needs the self-built app's secret."""
        body = {
            "link_name": link_name,
            "range": {"user_list": user_list, "department_list": department_list},
            "skip_verify": skip_verify,
        }
        answer = self._post("externalcontact/customer_acquisition/create_link", body)
        return answer.get("link", {})

    def get_acquisition_link(self, link_id: str) -> dict:
        """{link{…}, range{user_list, department_list}, skip_verify}."""
        body = {"link_id": link_id}
        return _payload(self._post("externalcontact/customer_acquisition/get", body))

    def update_acquisition_link(
        self,
        link_id: str,
        *,
        link_name: str | None = None,
        user_list: list[str] | None = None,
        department_list: list[int] | None = None,
        skip_verify: bool | None = None,
    ) -> None:
        """The range, when given, is replaced in full."""
        body = _given(link_id=link_id, link_name=link_name, skip_verify=skip_verify)
        if user_list is not None or department_list is not None:
            body["range"] = {"user_list": user_list or [], "department_list": department_list or []}
        self._post("externalcontact/customer_acquisition/update_link", body)

    def delete_acquisition_link(self, link_id: str) -> None:
        self._post("externalcontact/customer_acquisition/delete_link", {"link_id": link_id})

    def acquisition_link_customers(
        self, link_id: str, *, cursor: str = "", limit: int = 1000
    ) -> tuple[list[dict], str]:
        """One page of the link's customers [{external_userid, userid, chat_status, state}]."""
        body = _given(link_id=link_id, cursor=cursor or None, limit=limit)
        answer = self._post("externalcontact/customer_acquisition/customer", body)
        return answer.get("customer_list", []), answer.get("next_cursor", "") or ""

    def acquisition_link_statistic(self, link_id: str, *, start_time: int, end_time: int) -> dict:
        """{click_link_customer_cnt, new_customer_cnt} for whole Beijing days (≤ 30 days)."""
        body = {"link_id": link_id, "start_time": start_time, "end_time": end_time}
        return _payload(self._post("externalcontact/customer_acquisition/statistic", body))

    def acquisition_quota(self) -> dict:
        """{total (used so far), balance, quota_list[{expire_date, balance}]}; not under
        customer_acquisition/."""
        return _payload(self._get("externalcontact/customer_acquisition_quota"))

    # transfers (在职继承 / 离职继承) -------------------------------------------------------------

    def transfer_customer(
        self,
        *,
        handover_userid: str,
        takeover_userid: str,
        external_userids: Sequence[str],
        transfer_success_msg: str = "",
        resigned: bool = False,
    ) -> list[dict]:
        """Start handing ≤ 100 customers over (on-job, or resigned: the handover has left);
        [{external_userid, errcode}]: 0 only means the 24-hour takeover started."""
        if not external_userids or len(external_userids) > TRANSFER_BATCH:
            raise ValueError(f"external_userids must hold 1 to {TRANSFER_BATCH} ids")
        body: dict[str, Any] = {
            "handover_userid": handover_userid,
            "takeover_userid": takeover_userid,
            "external_userid": list(external_userids),
        }
        if transfer_success_msg and not resigned:
            body["transfer_success_msg"] = transfer_success_msg
        path = (
            "externalcontact/resigned/transfer_customer"
            if resigned
            else ("externalcontact/transfer_customer")
        )
        return self._post(path, body).get("customer", [])

    def transfer_result(
        self,
        *,
        handover_userid: str,
        takeover_userid: str,
        cursor: str = "",
        resigned: bool = False,
    ) -> tuple[list[dict], str]:
        """One page of [{external_userid, status 1–5, takeover_time}] for a handover → takeover
        pair (the latest transfer per customer), and the next cursor."""
        body = {
            "handover_userid": handover_userid,
            "takeover_userid": takeover_userid,
            "cursor": cursor,
        }
        path = (
            "externalcontact/resigned/transfer_result"
            if resigned
            else ("externalcontact/transfer_result")
        )
        answer = self._post(path, body)
        return answer.get("customer", []), answer.get("next_cursor", "") or ""

    def iter_transfer_result(
        self, *, handover_userid: str, takeover_userid: str, resigned: bool = False
    ) -> Iterator[list[dict]]:
        return iter_cursor(
            lambda cursor: self.transfer_result(
                handover_userid=handover_userid,
                takeover_userid=takeover_userid,
                cursor=cursor,
                resigned=resigned,
            )
        )

    def unassigned_list(self, *, cursor: str = "", page_size: int = 1000) -> tuple[list[dict], str]:
        """One page of customers of departed members not yet handed over:
        [{handover_userid, external_userid, dimission_time}], and the next cursor."""
        body: dict[str, Any] = {"page_size": page_size}
        if cursor:
            body["cursor"] = cursor
        answer = self._post("externalcontact/get_unassigned_list", body)
        more = not answer.get("is_last", True)
        return answer.get("info", []), (answer.get("next_cursor", "") or "") if more else ""

    def iter_unassigned_list(self, *, page_size: int = 1000) -> Iterator[list[dict]]:
        return iter_cursor(lambda cursor: self.unassigned_list(cursor=cursor, page_size=page_size))

    def send_app_message(self, *, agentid: int, touser: list[str], content: str) -> dict:
        """A text app message (message/send) to members; {invaliduser, …, msgid}."""
        body = {
            "touser": "|".join(touser),
            "msgtype": "text",
            "agentid": agentid,
            "text": {"content": content},
        }
        return _payload(self._post("message/send", body))


def _errcode(answer: dict, path: str) -> int:
    value = answer.get("errcode", errors.OK)  # some answers omit errcode on success
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WeComTransportError(errors.BAD_RESPONSE, "errcode is not an integer", path) from None


def _repeatable(method: str, exc: Exception) -> bool:
    """Whether a failed request can be sent again without risk of WeCom acting on it twice."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return True  # the request never reached WeCom
    return method == "GET"
