"""Secrets: password and PIN hashing, badge and token digests, random tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

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
    """A stable digest for secrets that are looked up by value (badge codes, tokens, device keys)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
