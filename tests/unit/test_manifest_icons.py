"""The committed icons are what Teams asks for, read back from the PNG bytes themselves.

Teams: a 192x192 full-colour icon and a 32x32 outline icon that is white on a transparent
background. The decoder here is independent of manifest/draw_icons.py's encoder on purpose.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.manifest import MANIFEST_DIR, ManifestError, png_size

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Png:
    width: int
    height: int
    color_type: int
    pixels: list[list[tuple[int, ...]]]  # rows of RGB or RGBA tuples


def decode_png(data: bytes) -> Png:
    """8-bit RGB/RGBA, non-interlaced PNGs, all five row filters, CRCs checked."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    pos, chunks = len(PNG_SIGNATURE), []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and color_type in (2, 6) and interlace == 0
    channels = 3 if color_type == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        row = _unfilter(line[0], bytearray(line[1:]), previous, channels)
        rows.append(row)
        previous = row
    pixels = [[tuple(row[x : x + channels]) for x in range(0, stride, channels)] for row in rows]
    return Png(width, height, color_type, pixels)


def _unfilter(kind: int, row: bytearray, above: bytearray, bpp: int) -> bytearray:
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up = above[i]
        up_left = above[i - bpp] if i >= bpp else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - up_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
            row[i] = (row[i] + predictor) & 0xFF
        else:
            assert kind == 0, f"unknown filter {kind}"
    return row


@pytest.fixture(scope="module")
def color() -> Png:
    return decode_png((MANIFEST_DIR / "color.png").read_bytes())


@pytest.fixture(scope="module")
def outline() -> Png:
    return decode_png((MANIFEST_DIR / "outline.png").read_bytes())


def test_color_icon_is_192_square_and_opaque(color: Png) -> None:
    assert (color.width, color.height) == (192, 192)
    assert len(color.pixels) == 192 and all(len(row) == 192 for row in color.pixels)
    if color.color_type == 6:
        assert all(pixel[3] == 255 for row in color.pixels for pixel in row)


def test_color_icon_background_is_the_manifest_accent_color(color: Png) -> None:
    accent = json.loads((MANIFEST_DIR / "manifest.json").read_text())["accentColor"]
    rgb = tuple(int(accent[i : i + 2], 16) for i in (1, 3, 5))
    for x, y in ((0, 0), (191, 0), (0, 191), (191, 191), (96, 4)):
        assert color.pixels[y][x][:3] == rgb


def test_color_icon_has_a_white_symbol_in_the_middle(color: Png) -> None:
    white = sum(1 for row in color.pixels for pixel in row if pixel[:3] == (255, 255, 255))
    assert 0.03 < white / (192 * 192) < 0.5


def test_outline_icon_is_32_square_white_on_transparent(outline: Png) -> None:
    assert (outline.width, outline.height) == (32, 32)
    assert outline.color_type == 6, "the outline needs an alpha channel to be transparent"
    pixels = [pixel for row in outline.pixels for pixel in row]
    assert len(pixels) == 32 * 32
    not_white = [pixel for pixel in pixels if pixel[3] != 0 and pixel[:3] != (255, 255, 255)]
    assert not_white == []


def test_outline_icon_draws_something_and_leaves_the_background_clear(outline: Png) -> None:
    alphas = [pixel[3] for row in outline.pixels for pixel in row]
    solid = sum(1 for a in alphas if a == 255)
    clear = sum(1 for a in alphas if a == 0)
    assert solid > 32 * 32 * 0.1
    assert clear > 32 * 32 * 0.4
    corners = [outline.pixels[y][x][3] for x in (0, 31) for y in (0, 31)]
    assert corners == [0, 0, 0, 0]


def test_committed_icons_are_what_the_script_draws(color: Png, outline: Png, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("draw_icons", MANIFEST_DIR / "draw_icons.py")
    assert spec and spec.loader
    draw_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(draw_icons)

    assert draw_icons.main(["--out-dir", str(tmp_path)]) == 0
    assert decode_png((tmp_path / "color.png").read_bytes()).pixels == color.pixels
    assert decode_png((tmp_path / "outline.png").read_bytes()).pixels == outline.pixels


def test_png_size_reads_the_header_and_rejects_other_files() -> None:
    assert png_size((MANIFEST_DIR / "color.png").read_bytes()) == (192, 192)
    assert png_size((MANIFEST_DIR / "outline.png").read_bytes()) == (32, 32)
    with pytest.raises(ManifestError):
        png_size(b"GIF89a" + bytes(30))
