"""Draw the Teams app icons: `color.png` (192x192) and `outline.png` (32x32).

Run `python manifest/draw_icons.py` after changing the drawing; both PNGs are committed so that
building the app package needs no image library. Standard library only (zlib + struct): the
icons are a few strokes, and a vector drawing evaluated per pixel keeps them sharp at both sizes.

The symbol is a speech bubble (a bot you chat with) holding a heartbeat line (a diagnosis).
Teams wants the colour icon full-bleed on the app's accent colour with the symbol in the middle,
and the outline icon white on a transparent background with no padding to speak of.
"""

from __future__ import annotations

import argparse
import math
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

ACCENT_COLOR = "#0B6A78"  # also the manifest's accentColor (a test keeps them equal)
COLOR_SIZE = 192
OUTLINE_SIZE = 32

Point = tuple[float, float]
Shape = Callable[[float, float], float]  # signed distance in symbol units; negative is inside

# The symbol in unit coordinates (0..1, y down).
BUBBLE_TOP_LEFT: Point = (0.06, 0.06)
BUBBLE_BOTTOM_RIGHT: Point = (0.94, 0.74)
BUBBLE_RADIUS = 0.16
TAIL: Sequence[Point] = ((0.26, 0.74), (0.20, 0.95), (0.44, 0.74))
HEARTBEAT: Sequence[Point] = (
    (0.20, 0.42),
    (0.36, 0.42),
    (0.44, 0.24),
    (0.54, 0.60),
    (0.62, 0.42),
    (0.80, 0.42),
)


def hex_rgb(color: str) -> tuple[int, int, int]:
    """`#RRGGBB` -> (r, g, b)."""
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    ax, ay = p[0] - a[0], p[1] - a[1]
    bx, by = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, (ax * bx + ay * by) / (bx * bx + by * by)))
    return math.hypot(ax - bx * t, ay - by * t)


def _polyline(points: Sequence[Point], width: float) -> Shape:
    """A stroked polyline with round caps and joins."""
    segments = list(zip(points, points[1:], strict=False))

    def distance(x: float, y: float) -> float:
        return min(_segment_distance((x, y), a, b) for a, b in segments) - width / 2

    return distance


def _rounded_box_outline(top_left: Point, bottom_right: Point, radius: float, width: float) -> Shape:
    """The stroke along a rounded rectangle's edge (the bubble)."""
    cx, cy = (top_left[0] + bottom_right[0]) / 2, (top_left[1] + bottom_right[1]) / 2
    hx, hy = (bottom_right[0] - top_left[0]) / 2, (bottom_right[1] - top_left[1]) / 2

    def distance(x: float, y: float) -> float:
        qx, qy = abs(x - cx) - hx + radius, abs(y - cy) - hy + radius
        box = math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - radius
        return abs(box) - width / 2

    return distance


def symbol(stroke: float) -> Shape:
    """The whole symbol as one signed-distance function; `stroke` is the line width in symbol units."""
    parts = (
        _rounded_box_outline(BUBBLE_TOP_LEFT, BUBBLE_BOTTOM_RIGHT, BUBBLE_RADIUS, stroke),
        _polyline(TAIL, stroke),
        _polyline(HEARTBEAT, stroke * 0.9),
    )
    return lambda x, y: min(part(x, y) for part in parts)


def coverage(shape: Shape, size: int, inset: float) -> list[list[float]]:
    """How much of each pixel the shape covers (0..1), anti-aliased from the signed distance.

    The symbol's unit square is drawn into the `size` square less `inset` pixels on every side.
    """
    scale = size - 2 * inset
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            d = shape((px + 0.5 - inset) / scale, (py + 0.5 - inset) / scale) * scale
            row.append(max(0.0, min(1.0, 0.5 - d)))
        rows.append(row)
    return rows


def color_icon_pixels() -> list[list[tuple[int, int, int]]]:
    """192x192 opaque RGB: a white symbol on the accent colour, inside Teams' safe area."""
    background = hex_rgb(ACCENT_COLOR)
    cover = coverage(symbol(stroke=0.085), COLOR_SIZE, inset=40)
    return [
        [tuple(round(c + (255 - c) * a) for c in background) for a in row]  # type: ignore[misc]
        for row in cover
    ]


def outline_icon_pixels() -> list[list[tuple[int, int, int, int]]]:
    """32x32 RGBA: white everywhere, the symbol carried by alpha alone (transparent elsewhere)."""
    cover = coverage(symbol(stroke=0.10), OUTLINE_SIZE, inset=1)
    return [[(255, 255, 255, round(255 * a)) for a in row] for row in cover]


def encode_png(pixels: Sequence[Sequence[tuple[int, ...]]]) -> bytes:
    """A minimal PNG: 8-bit RGB or RGBA (by tuple length), no interlace, filter 0 on every row."""
    height, width, channels = len(pixels), len(pixels[0]), len(pixels[0][0])
    color_type = {3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_icons(out_dir: Path) -> list[Path]:
    """Write color.png and outline.png into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, pixels in (("color.png", color_icon_pixels()), ("outline.png", outline_icon_pixels())):
        path = out_dir / name
        path.write_bytes(encode_png(pixels))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw Voice Doctor's Teams app icons.")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    for path in write_icons(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
