#!/usr/bin/env python3
"""Draws Latchkey's app icons (a white key on a blue tile) as PNGs, with no
image library: shapes are signed-distance tests, anti-aliased by
supersampling, written with zlib + struct. Same geometry as icon.svg and the
header logo (a 64-unit box). Run from anywhere: writes ../../public/icons/."""

import math
import os
import struct
import zlib

BLUE = (0x1D, 0x4F, 0x91)
WHITE = (0xFF, 0xFF, 0xFF)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "public", "icons")

# Key, in the 64-unit box: a ring and three round-capped strokes 6 units wide.
RING = (24.0, 32.0, 10.0)  # centre x, centre y, radius of the stroke's middle
STROKE = 3.0  # half width
SEGMENTS = [((36, 32), (53, 32)), ((46, 32), (46, 40)), ((52, 32), (52, 38))]


def seg_dist(px, py, a, b):
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def in_key(x, y):
    cx, cy, r = RING
    if abs(math.hypot(x - cx, y - cy) - r) <= STROKE:
        return True
    return any(seg_dist(x, y, a, b) <= STROKE for a, b in SEGMENTS)


def in_rounded_rect(x, y, size, radius):
    # Distance test against a rounded square [0,size]^2.
    qx = max(radius - x, 0.0, x - (size - radius))
    qy = max(radius - y, 0.0, y - (size - radius))
    return qx * qx + qy * qy <= radius * radius


def render(size, *, maskable=False, rounded=True, ss=3):
    """RGBA rows. Maskable: full-bleed tile, key shrunk into the safe zone."""
    # Map pixel coordinates to the 64-unit key box.
    scale = 64.0 / size
    glyph = 0.8 if maskable else 1.0  # safe zone is the centre 80 % circle
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            bg = fg = 0
            for sy in range(ss):
                for sx in range(ss):
                    x = (px + (sx + 0.5) / ss) * scale
                    y = (py + (sy + 0.5) / ss) * scale
                    if maskable or not rounded or in_rounded_rect(x, y, 64.0, 14.0):
                        bg += 1
                        kx = 32 + (x - 32) / glyph
                        ky = 32 + (y - 32) / glyph
                        if in_key(kx, ky):
                            fg += 1
            n = ss * ss
            if bg == 0:
                row += bytes((0, 0, 0, 0))
                continue
            a = bg / n
            f = fg / bg
            rgb = [round(BLUE[i] * (1 - f) + WHITE[i] * f) for i in range(3)]
            row += bytes((*rgb, round(a * 255)))
        rows.append(bytes(row))
    return rows


def write_png(path, size, rows):
    raw = b"".join(b"\x00" + r for r in rows)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="#1d4f91"/>
<circle cx="24" cy="32" r="10" fill="none" stroke="#fff" stroke-width="6"/>
<path d="M36 32h17M46 32v8M52 32v6" stroke="#fff" stroke-width="6" stroke-linecap="round" fill="none"/>
</svg>
"""


def main():
    os.makedirs(OUT, exist_ok=True)
    jobs = [
        ("favicon-32.png", 32, {}),
        ("icon-192.png", 192, {}),
        ("icon-512.png", 512, {"ss": 2}),
        ("apple-touch-icon.png", 180, {"rounded": False}),
        ("icon-maskable-192.png", 192, {"maskable": True}),
        ("icon-maskable-512.png", 512, {"maskable": True, "ss": 2}),
    ]
    for name, size, opts in jobs:
        write_png(os.path.join(OUT, name), size, render(size, **opts))
        print("wrote", name)
    with open(os.path.join(OUT, "icon.svg"), "w") as f:
        f.write(SVG)
    print("wrote icon.svg")


if __name__ == "__main__":
    main()
