"""Permanent image links: one stable, unguessable service URL per image, valid as long as the image is.

Every other image URL the service hands out is a SAS URL that expires after IMAGE_URL_TTL_MINUTES; a
client that stores one (as seed 000's own metadata document does) ends up with a dead link. A permanent
link is `{API}/v1/image-links/{token}` with `token = {keyId}.{payload}.{signature}`: the payload is
`{tenantId}/{imageId}` (base64url), the signature HMAC-SHA256 under the IMAGE_LINK_SIGNING_KEYS key
`keyId` over `image-link.{keyId}.{payload}` (base64url). Nothing in it expires, so the same image always
gets the same link; it answers with a redirect to a fresh short-lived SAS URL (or the public URL where
images are public by setting), and it dies with the image: a deleted job's link answers 410, a purged
job's 404, and so does a link whose signature does not verify. The first key signs, every listed key
verifies, so keys rotate without breaking links until the old key is dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from shared.ids import image_id, is_tenant_id, split_image_id
from shared.models.jobs import JobDocument, StoredImage
from shared.settings import Settings

ROUTE = "v1/image-links"
_MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class LinkTarget:
    tenant_id: str
    image_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, key_id: str, payload: str) -> str:
    message = f"image-link.{key_id}.{payload}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def link_token(keys: tuple[tuple[str, str], ...], target: LinkTarget) -> str:
    """The token of `target`'s link, signed with the first key."""
    key_id, secret = keys[0]
    payload = _b64(f"{target.tenant_id}/{target.image_id}".encode())
    return f"{key_id}.{payload}.{_signature(secret, key_id, payload)}"


def verify_token(keys: tuple[tuple[str, str], ...], token: str) -> LinkTarget | None:
    """What a token links to, when one of `keys` signed it and it names a well-formed image."""
    parts = token.split(".")
    if len(token) > _MAX_TOKEN_LENGTH or len(parts) != 3:
        return None
    key_id, payload, signature = parts
    secret = dict(keys).get(key_id)
    if secret is None or not hmac.compare_digest(_signature(secret, key_id, payload), signature):
        return None
    try:
        tenant_id, _, linked = _unb64(payload).decode().partition("/")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not is_tenant_id(tenant_id) or split_image_id(linked) is None:
        return None
    return LinkTarget(tenant_id=tenant_id, image_id=linked)


def permanent_url(settings: Settings, job: JobDocument, image: StoredImage) -> str | None:
    """The image's permanent link, on PUBLIC_API_BASE_URL (else the address the job was submitted to);
    None when no signing key is configured or no base address is known."""
    keys = settings.image_link_keys
    base = settings.public_api_base_url or job.api_base_url
    if not keys or not base:
        return None
    target = LinkTarget(tenant_id=job.tenant_id, image_id=image_id(job.id, image.index))
    return f"{base.rstrip('/')}/{ROUTE}/{link_token(keys, target)}"


def target_of_url(settings: Settings, url: str) -> LinkTarget | None:
    """What `url` links to when it is one of this service's permanent links (on whatever host)."""
    keys = settings.image_link_keys
    if not keys:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    head, marker, token = path.rpartition(f"/{ROUTE}/")
    if not marker or not head or "/" in token:
        return None
    return verify_token(keys, unquote(token))
