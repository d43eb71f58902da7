"""Files handed out through short-lived signed links: what a link carries, how it is signed and
checked, and how a file's name goes into a download's headers.

A token is `<payload>.<signature>`, both base64url without padding. The payload is the JSON
array `[1, kind, item_id, member_id, expires, nonce]` (1 the format's version, `expires` in
unix seconds, `nonce` random); the signature is HMAC-SHA256 over a purpose label and the
payload as sent, compared in constant time. Whoever holds a token may use it until it expires,
so tokens are short-lived and every download is audited by the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

VERSION = 1
KIND = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")  # fits the audit log's item_type
MIN_SECRET_BYTES = 32  # shorter than HMAC-SHA256's output, the key would be the weakest part
MAX_PAYLOAD_LENGTH = 512  # base64 characters; a real payload is about 120
_TOKEN = re.compile(rf"^([A-Za-z0-9_-]{{1,{MAX_PAYLOAD_LENGTH}}})\.([A-Za-z0-9_-]{{43}})$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Signatures are for this purpose only, should the key ever sign anything else.
_PURPOSE = b"forumbot file link\x00"
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[^\"\\\r\n]*\"|[\w.+-]+))*$", re.ASCII)
MAX_ID = 2**63 - 1


class InvalidLink(ValueError):
    """The token is not one this secret signed, is malformed, or has expired. The message says
    which, for the log; the user is told the same for every case."""


class ExpiredLink(InvalidLink):
    pass


@dataclass(frozen=True)
class FileContent:
    """A file for one member: its name (any Unicode), its media type, its bytes."""

    filename: str
    media_type: str
    body: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.body, bytes):
            raise TypeError("FileContent.body must be bytes")
        if not safe_filename(self.filename).strip("_. "):
            raise ValueError(f"unusable file name {self.filename!r}")
        if not _MEDIA_TYPE.match(self.media_type):
            raise ValueError(f"malformed media type {self.media_type!r}")


@dataclass(frozen=True)
class LinkClaims:
    """What a link grants: the file `kind` of item `item_id`, as member `member_id` sees it,
    until `expires` (unix seconds)."""

    kind: str
    item_id: int
    member_id: int
    expires: int
    nonce: str

    def __post_init__(self) -> None:
        if not KIND.match(self.kind):
            raise ValueError(f"file kind {self.kind!r} must match {KIND.pattern}")
        for name in ("item_id", "member_id", "expires"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= MAX_ID:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
        if not _NONCE.match(self.nonce):
            raise ValueError("malformed nonce")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signature(secret: bytes, payload: str) -> str:
    return _b64encode(hmac.new(secret, _PURPOSE + payload.encode("ascii"), hashlib.sha256).digest())


def sign_link(secret: bytes, claims: LinkClaims) -> str:
    """The token for `claims`."""
    data = [VERSION, claims.kind, claims.item_id, claims.member_id, claims.expires, claims.nonce]
    payload = _b64encode(json.dumps(data, separators=(",", ":")).encode("ascii"))
    return f"{payload}.{_signature(secret, payload)}"


def verify_link(secret: bytes, token: str, now: int) -> LinkClaims:
    """The claims of `token` if `secret` signed it and it has not expired at `now` (unix
    seconds); otherwise InvalidLink. Raises nothing else, whatever the token."""
    match = _TOKEN.match(token) if isinstance(token, str) else None
    if match is None:
        raise InvalidLink("malformed token")
    payload, signature = match.groups()
    # Compared as text: every one of the signature's characters counts, the last one's spare
    # bits too, so no two tokens carry the same signature.
    if not hmac.compare_digest(_signature(secret, payload), signature):
        raise InvalidLink("bad signature")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        version, kind, item_id, member_id, expires, nonce = data
        if type(version) is not int or version != VERSION:
            raise InvalidLink(f"unknown token version {version!r}")
        claims = LinkClaims(kind, item_id, member_id, expires, nonce)
    except InvalidLink:
        raise
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, RecursionError) as error:
        # signed by us but unreadable: a key shared with something else, or a bug
        raise InvalidLink(f"signed payload unreadable: {type(error).__name__}") from None
    if now >= claims.expires:
        raise ExpiredLink(f"expired {now - claims.expires} s ago")
    return claims


_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_filename(name: str) -> str:
    """`name` without what a file system or a header would misread: control characters,
    path separators and the characters Windows forbids become `_`; NFC-normalised."""
    cleaned = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch
        for ch in unicodedata.normalize("NFC", name)
    )
    return _UNSAFE_IN_NAME.sub("_", cleaned).strip()[:200]


def content_disposition(filename: str) -> str:
    """`Content-Disposition` for a download of `filename` (RFC 6266): an ASCII fallback for old
    clients and the exact name, UTF-8 and percent-encoded, for the rest."""
    exact = safe_filename(filename)
    ascii_name = (
        unicodedata.normalize("NFKD", exact).encode("ascii", "ignore").decode("ascii").replace("%", "_")
    )
    fallback = ascii_name if ascii_name.strip("_. ") else "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(exact, safe='')}"
