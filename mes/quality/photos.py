"""Photos of nonconformances from the tablet camera: accepted only if they are really images of
an allowed kind (decoded, not trusted by name or declared type) and not too large."""
from __future__ import annotations

import io
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image

from mes.core.errors import ValidationError

MAX_BYTES = 3 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48 MP phone photo is near this; beyond it decoding is a bomb risk
ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def check_photo(data: bytes) -> str:
    """The content type of an acceptable photo; a ValidationError otherwise."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_l("The photo is too large (at most %(mb)s MB)."), fields={"photo": [_l("Too large.")]},
                              mb=MAX_BYTES // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                width, height = image.size
                image.verify()
    except Exception:  # noqa: BLE001 - anything Pillow cannot decode is not a photo
        kind = None
        width = height = 0
    if kind not in ALLOWED or width * height > MAX_PIXELS:
        raise ValidationError(_l("The file is not a photo (JPEG, PNG or WebP)."),
                              fields={"photo": [_l("Not an image.")]})
    return ALLOWED[kind]
