"""A PDF's text as a reader sees it (poppler's pdftotext), for the tests that read printed sheets.

Skips, naming the Debian package, where pdftotext is missing or where poppler-data (the CJK
character maps pdftotext needs to read the sheets' Chinese fonts) is missing: without it pdftotext
prints nothing at all for a page that uses one. `.ci/run` installs both, so CI skips nothing."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CJK_MAPS = Path("/usr/share/poppler/cMap/Adobe-GB1")


def pdf_text(pdf: bytes, layout: bool = True) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs Debian package poppler-utils (pdftotext); .ci/run installs it")
    if not CJK_MAPS.is_dir():
        pytest.skip("needs Debian package poppler-data (pdftotext's Chinese character maps); .ci/run installs it")
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(args, input=pdf, check=True, capture_output=True, timeout=60).stdout.decode()
