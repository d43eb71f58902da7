"""Draws the Teams app icons, color.png (192×192) and outline.png (32×32), beside this script.

Standard library only (zlib + struct), so that the icons need no image library at run time or in CI:
    python manifest/make_icons.py
The output is deterministic; rerun it after changing a shape or a colour and commit both PNG files.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCENT = (0x1F, 0x4E, 0x79)  # keep equal to accentColor in manifest.json
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis: 16 samples per pixel smooth the edges

Shape = Callable[[float, float], bool]  # (x, y) in the unit square, y downwards


def rounded_rect(left: float, top: float, right: float, bottom: float, radius: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (left <= x <= right and top <= y <= bottom):
            return False
        cx = min(max(x, left + radius), right - radius)
        cy = min(max(y, top + radius), bottom - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2

    return inside


def triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    def side(p: tuple[float, float], q: tuple[float, float], x: float, y: float) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    def inside(x: float, y: float) -> bool:
        d1, d2, d3 = side(a, b, x, y), side(b, c, x, y), side(c, a, x, y)
        return (d1 >= 0 and d2 >= 0 and d3 >= 0) or (d1 <= 0 and d2 <= 0 and d3 <= 0)

    return inside


def circle(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def union(*shapes: Shape) -> Shape:
    return lambda x, y: any(shape(x, y) for shape in shapes)


def minus(shape: Shape, *holes: Shape) -> Shape:
    return lambda x, y: shape(x, y) and not any(hole(x, y) for hole in holes)


def scaled(shape: Shape, left: float, top: float, size: float) -> Shape:
    """`shape` drawn into the square at (left, top) of side `size`, all in unit coordinates."""
    return lambda x, y: shape((x - left) / size, (y - top) / size)


def bubble(inset: float = 0.0) -> Shape:
    """A speech bubble with its tail at the lower left, shrunk by `inset` on every side."""
    body = rounded_rect(0.06 + inset, 0.12 + inset, 0.94 - inset, 0.72 - inset, max(0.16 - inset, 0.02))
    tail = triangle((0.22 + inset, 0.60), (0.46 - inset, 0.60), (0.16 + inset * 1.6, 0.92 - inset * 2.2))
    return union(body, tail)


def dots(radius: float) -> Shape:
    return union(*(circle(x, 0.42, radius) for x in (0.30, 0.50, 0.70)))


def coverage(shape: Shape, size: int, px: int, py: int) -> float:
    hits = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (px + (sx + 0.5) / SAMPLES) / size
            y = (py + (sy + 0.5) / SAMPLES) / size
            hits += shape(x, y)
    return hits / (SAMPLES * SAMPLES)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from rows of width*4 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def outline_icon(size: int = 32) -> bytes:
    """White strokes on transparency, as Teams wants: every pixel white, only alpha varies."""
    shape = union(minus(bubble(), bubble(0.09)), dots(0.07))
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            row += bytes((*WHITE, round(255 * coverage(shape, size, px, py))))
        rows.append(bytes(row))
    return png(size, size, rows)


def color_icon(size: int = 192) -> bytes:
    """A white bubble on the accent colour, opaque; the symbol keeps to the middle as Teams asks."""
    shape = scaled(minus(bubble(), dots(0.075)), 0.22, 0.22, 0.56)
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            c = coverage(shape, size, px, py)
            row += bytes(round(a + (w - a) * c) for a, w in zip(ACCENT, WHITE, strict=True)) + b"\xff"
        rows.append(bytes(row))
    return png(size, size, rows)


def main() -> None:
    (HERE / "color.png").write_bytes(color_icon())
    (HERE / "outline.png").write_bytes(outline_icon())
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
