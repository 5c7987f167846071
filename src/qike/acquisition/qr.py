"""QR images of contact ways for print: PNG at 300 dpi or SVG in millimetres.

The image encodes the contact way's `qr_code` URL. Doubt: real WeCom's qr_code is a picture of
the QR (its payload is not published), so a code printed from this image opens that picture's URL
rather than the add-contact page; with wecomsim the URL is the simulated scan page.
"""

from __future__ import annotations

import io
import math

import segno

PRINT_DPI = 300
MM_PER_INCH = 25.4
# Printable edge lengths in millimetres: table card, A5 poster, A4 poster, roll-up banner.
SIZES_MM = (80, 120, 200, 500)
QUIET_ZONE = 4  # modules of white border the QR standard asks for


def _code(content: str) -> segno.QRCode:
    return segno.make(content, error="m", micro=False)


def _scale(qr: segno.QRCode, pixels: float) -> float:
    return pixels / (qr.symbol_size(scale=1, border=QUIET_ZONE)[0])


def png(content: str, size_mm: int) -> bytes:
    qr = _code(content)
    pixels = size_mm / MM_PER_INCH * PRINT_DPI
    out = io.BytesIO()
    qr.save(
        out,
        kind="png",
        scale=max(1, math.floor(_scale(qr, pixels))),
        border=QUIET_ZONE,
        dpi=PRINT_DPI,
    )
    return out.getvalue()


def svg(content: str, size_mm: int) -> bytes:
    qr = _code(content)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=_scale(qr, size_mm), unit="mm", border=QUIET_ZONE, xmldecl=True)
    return out.getvalue()
