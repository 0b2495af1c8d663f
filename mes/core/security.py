"""Secrets: password and PIN hashing (salted scrypt), badge digests (keyed with the instance's
secret key, so a copied database does not reveal badge codes by a dictionary of likely codes),
token digests, random tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash


def hash_secret(value: str) -> str:
    return generate_password_hash(value, method="scrypt")


def check_secret(hashed: str | None, value: str) -> bool:
    if not hashed:
        # Spend the same time as a real check so that unknown accounts are not told apart.
        check_password_hash(_DUMMY_HASH, value)
        return False
    return check_password_hash(hashed, value)


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def identifier(value: str) -> str:
    """A username or employee number as it is looked up and throttled: NFKC (full-width digits
    from an IME become ASCII), without surrounding whitespace, lower case. Computed once, so the
    lock on an account and the account found are always the same."""
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def badge_code(value: str) -> str:
    """A scanned badge code: NFKC, without surrounding whitespace (case is kept: it is a code)."""
    return unicodedata.normalize("NFKC", value or "").strip()


def digest(value: str) -> str:
    """A stable digest for random secrets looked up by value (API tokens, kiosk device keys): they
    carry 256 random bits, so a plain SHA-256 is enough and survives a change of secret key."""
    return hashlib.sha256(value.encode()).hexdigest()


def badge_digest(code: str) -> str:
    """HMAC-SHA256 of a badge code under the secret key: looked up by equality like a digest, but
    badge codes are short and guessable, so the digest must not be computable without the key."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"badge:" + badge_code(code).encode(), hashlib.sha256).hexdigest()


def legacy_badge_digest(code: str) -> str:
    """How badges were stored before they were keyed (plain SHA-256); accepted once at login and
    then re-stored keyed."""
    return hashlib.sha256(badge_code(code).encode()).hexdigest()


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
