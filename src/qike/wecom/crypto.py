"""WeCom callback cryptography (企业微信回调加解密).

Plain Python, no Django: the simulator imports this module too, so both sides of a callback share one
implementation that is tested against Tencent's official vector (API-FACTS §4).

Layout of an encrypted message: base64(AES-256-CBC(key, iv=key[:16], pkcs7_32(
    random16 || uint32_be(len(msg)) || msg || receiveid)))
Signature: sha1 over the lexicographically sorted [token, timestamp, nonce, encrypt], lowercase hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import string
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_SIZE = 32  # WeCom pads to 32 bytes, not AES's 16
AES_KEY_LENGTH = 43


class CryptoError(Exception):
    """A callback failed a cryptographic check. `code` follows the official samples' ierror codes."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


SIGNATURE_MISMATCH = -40001
PARSE_XML_ERROR = -40002
INVALID_AES_KEY = -40004
RECEIVEID_MISMATCH = -40005
ENCRYPT_ERROR = -40006
DECRYPT_ERROR = -40007
ILLEGAL_BUFFER = -40008


def generate_aes_key() -> str:
    """A fresh 43-character EncodingAESKey, as WeCom's admin console generates them."""
    return base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def generate_token(length: int = 32) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != AES_KEY_LENGTH:
        raise CryptoError(INVALID_AES_KEY, "EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError(INVALID_AES_KEY, "EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise CryptoError(INVALID_AES_KEY, "EncodingAESKey must decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    joined = "".join(sorted([token, str(timestamp), str(nonce), encrypt]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def _pad(data: bytes) -> bytes:
    amount = BLOCK_SIZE - len(data) % BLOCK_SIZE
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError(ILLEGAL_BUFFER, "empty plaintext")
    amount = data[-1]
    if amount < 1 or amount > BLOCK_SIZE or amount > len(data):
        raise CryptoError(ILLEGAL_BUFFER, "bad padding")
    if data[-amount:] != bytes([amount]) * amount:
        raise CryptoError(ILLEGAL_BUFFER, "bad padding")
    return data[:-amount]


def encrypt(key: bytes, message: bytes, receiveid: str, random_prefix: bytes | None = None) -> str:
    prefix = random_prefix if random_prefix is not None else os.urandom(16)
    if len(prefix) != 16:
        raise CryptoError(ENCRYPT_ERROR, "random prefix must be 16 bytes")
    plain = prefix + struct.pack(">I", len(message)) + message + receiveid.encode("utf-8")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    cipher_text = encryptor.update(_pad(plain)) + encryptor.finalize()
    return base64.b64encode(cipher_text).decode("ascii")


@dataclass(frozen=True)
class Decrypted:
    message: bytes
    receiveid: str


def decrypt(key: bytes, encrypted: str) -> Decrypted:
    try:
        cipher_text = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError(DECRYPT_ERROR, "ciphertext is not base64") from exc
    if not cipher_text or len(cipher_text) % 16:
        raise CryptoError(DECRYPT_ERROR, "ciphertext length is not a multiple of the AES block")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = _unpad(decryptor.update(cipher_text) + decryptor.finalize())
    if len(plain) < 20:
        raise CryptoError(ILLEGAL_BUFFER, "plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise CryptoError(ILLEGAL_BUFFER, "declared length exceeds plaintext")
    message = plain[20 : 20 + length]
    try:
        receiveid = plain[20 + length :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CryptoError(ILLEGAL_BUFFER, "receiveid is not utf-8") from exc
    return Decrypted(message=message, receiveid=receiveid)


class CallbackCrypto:
    """One corp's (or suite's) callback credentials: verify, decrypt, and encrypt envelopes."""

    def __init__(self, token: str, encoding_aes_key: str, receiveid: str) -> None:
        self.token = token
        self.key = aes_key_bytes(encoding_aes_key)
        self.receiveid = receiveid

    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, data: str) -> None:
        expected = signature(self.token, timestamp, nonce, data)
        if not msg_signature or not hmac.compare_digest(expected, msg_signature.lower()):
            raise CryptoError(SIGNATURE_MISMATCH, "signature mismatch")

    def _open(self, data: str) -> bytes:
        decrypted = decrypt(self.key, data)
        if decrypted.receiveid != self.receiveid:
            raise CryptoError(RECEIVEID_MISMATCH, "receiveid does not match")
        return decrypted.message

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> bytes:
        """The GET handshake: returns the plaintext to echo back as the response body."""
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self._open(echostr)

    def decrypt_message(
        self, msg_signature: str, timestamp: str, nonce: str, encrypt: str
    ) -> bytes:
        self.check_signature(msg_signature, timestamp, nonce, encrypt)
        return self._open(encrypt)

    def encrypt_message(
        self, message: bytes, timestamp: str, nonce: str, random_prefix: bytes | None = None
    ) -> tuple[str, str]:
        """Encrypts `message`; returns (encrypt, msg_signature)."""
        encrypted = encrypt(self.key, message, self.receiveid, random_prefix)
        return encrypted, signature(self.token, timestamp, nonce, encrypted)

    def callback_body(
        self, message: bytes, timestamp: str, nonce: str, agent_id: str = ""
    ) -> tuple[bytes, str]:
        """The POST body WeCom sends for an event, and its msg_signature."""
        encrypted, sig = self.encrypt_message(message, timestamp, nonce)
        body = (
            f"<xml><ToUserName><![CDATA[{self.receiveid}]]></ToUserName>"
            f"<AgentID><![CDATA[{agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return body.encode("utf-8"), sig

    def passive_reply(self, message: bytes, timestamp: str, nonce: str) -> bytes:
        encrypted, sig = self.encrypt_message(message, timestamp, nonce)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        ).encode()
