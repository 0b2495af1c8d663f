"""JSON API: import routings or work orders from a CSV or .xlsx file; a dry run by default."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from mes.core.api import token_required
from mes.core.auth import Permission, can
from mes.core.errors import Forbidden
from mes.imports import services
from mes.imports.columns import Kind
from mes.imports.reading import UploadRefused
from mes.imports.results import ImportResult, RowError

blp = Blueprint("api_imports", __name__, url_prefix="/api/v1/imports", description="Import routings and work orders")


class ImportQuerySchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=True, metadata={"description": "Only check and list what would be created."})
    release = ma.fields.Boolean(load_default=False, metadata={
        "description": "Release what is imported: routings in force from today, work orders to the floor."})


class ImportFileSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    file = ma.fields.Raw(metadata={"type": "string", "format": "binary",
                                   "description": "CSV (UTF-8 or GBK; comma, semicolon or tab) or .xlsx (first sheet)."})


class ImportErrorSchema(ma.Schema):
    row = ma.fields.Integer(allow_none=True, metadata={"description": "Row as in Excel (the header is row 1); null for the whole file."})
    column = ma.fields.String()
    message = ma.fields.String()


class ImportResultSchema(ma.Schema):
    valid = ma.fields.Boolean()
    created = ma.fields.List(ma.fields.Dict(), metadata={"description": "Routing versions or work orders (to be) created."})
    errors = ma.fields.List(ma.fields.Nested(ImportErrorSchema))


@blp.route('/<any(routings, "work-orders"):kind>', methods=["POST"])
@token_required(Permission.EDIT_ROUTINGS, Permission.EDIT_ORDERS)  # before the upload is parsed
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportResultSchema, description="Dry run: whether the file is valid, what it would create, every problem.")
@blp.alt_response(201, schema=ImportResultSchema, description="Imported: everything in one transaction.")
@blp.alt_response(422, schema=ImportResultSchema, description="Invalid file, or one refused unread (too large "
                  "once unpacked, too many columns, an over-long cell), also on a dry run: nothing was saved.")
def import_file(args: dict[str, Any], files: dict[str, Any], kind: str) -> Any:
    chosen = Kind(kind)
    if not can(chosen.permission):
        raise Forbidden()
    upload = files.get("file") or request.files.get("file")
    data = upload.read() if upload is not None else b""
    if upload is None or (not upload.filename and not data):
        result = ImportResult(chosen, errors=[RowError(None, "file", str(_l("Send the file as the multipart field “file”.")))])
        return result.to_dict(), 422
    filename = upload.filename or ""
    try:
        if args["dry_run"]:
            return services.preview(chosen, filename, data, args["release"]).to_dict(), 200
        result = services.run(chosen, filename, data, args["release"])
    except UploadRefused as exc:
        return ImportResult(chosen, errors=[exc.row_error()]).to_dict(), exc.status
    return result.to_dict(), 201 if result.valid else 422
