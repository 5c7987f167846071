"""WeCom's callback URL: GET answers the URL verification, POST stores an event and says success."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from qike.core.models import Corp
from qike.intake.services import store_event
from qike.wecom import crypto
from qike.wecom.events import EventParseError, parse_envelope, parse_event

log = logging.getLogger("qike.intake")


class Rejected(Exception):
    def __init__(self, status: int, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, corpid: str) -> HttpResponse:
    try:
        corp = _active_corp(corpid)
        box = crypto.CallbackCrypto(corp.callback_token, corp.encoding_aes_key, corp.corpid)
        signature, timestamp, nonce = _signed_params(request)
        if request.method == "GET":
            return _verify_url(request, box, signature, timestamp, nonce)
        return _receive_event(request, corp, box, signature, timestamp, nonce)
    except Rejected as rejected:
        log.warning(
            "intake.rejected corp=%s code=%s detail=%s remote=%s",
            corpid,
            rejected.code,
            rejected.detail,
            request.META.get("REMOTE_ADDR"),
        )
        return HttpResponse(rejected.code, status=rejected.status, content_type="text/plain")


def _active_corp(corpid: str) -> Corp:
    corp = Corp.objects.filter(corpid=corpid, is_active=True).first()
    if corp is None or not corp.callback_token or not corp.encoding_aes_key:
        raise Rejected(404, "unknown_corp")
    return corp


def _signed_params(request: HttpRequest) -> tuple[str, str, str]:
    signature = request.GET.get("msg_signature", "")
    timestamp = request.GET.get("timestamp", "")
    nonce = request.GET.get("nonce", "")
    if not (signature and timestamp and nonce):
        raise Rejected(400, "missing_signature_params")
    if not timestamp.isdigit():
        raise Rejected(400, "bad_timestamp")
    max_age = settings.QIKE_CALLBACK_MAX_AGE
    if max_age and abs(time.time() - int(timestamp)) > max_age:
        raise Rejected(403, "stale_timestamp", f"timestamp={timestamp}")
    return signature, timestamp, nonce


def _verify_url(
    request: HttpRequest, box: crypto.CallbackCrypto, signature: str, timestamp: str, nonce: str
) -> HttpResponse:
    echostr = request.GET.get("echostr", "")
    if not echostr:
        raise Rejected(400, "missing_echostr")
    try:
        plain = box.verify_url(signature, timestamp, nonce, echostr)
    except crypto.CryptoError as exc:
        raise Rejected(403, _crypto_code(exc), str(exc)) from exc
    return HttpResponse(plain, content_type="text/plain")


def _receive_event(
    request: HttpRequest,
    corp: Corp,
    box: crypto.CallbackCrypto,
    signature: str,
    timestamp: str,
    nonce: str,
) -> HttpResponse:
    body = _read_body(request)
    try:
        envelope = parse_envelope(body)
    except EventParseError as exc:
        raise Rejected(400, "malformed_envelope", str(exc)) from exc
    try:
        plain = box.decrypt_message(signature, timestamp, nonce, envelope.encrypt)
    except crypto.CryptoError as exc:
        raise Rejected(403, _crypto_code(exc), str(exc)) from exc
    try:
        event = parse_event(plain)
    except EventParseError as exc:
        raise Rejected(400, "malformed_event", str(exc)) from exc
    store_event(corp=corp, event=event)
    return HttpResponse("success", content_type="text/plain")


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.QIKE_CALLBACK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, "body_too_large", f"content-length={declared}")
    body = request.body
    if len(body) > limit:
        raise Rejected(413, "body_too_large", f"length={len(body)}")
    if not body:
        raise Rejected(400, "empty_body")
    return body


def _crypto_code(exc: crypto.CryptoError) -> str:
    return {
        crypto.SIGNATURE_MISMATCH: "bad_signature",
        crypto.RECEIVEID_MISMATCH: "receiveid_mismatch",
    }.get(exc.code, "decrypt_failed")
