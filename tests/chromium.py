# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Headless Chromium for the tests that look at a page: find it, screenshot a page, read the PNG's pixels."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import zlib

import pytest

BROWSERS = ('chromium', 'chromium-browser')
RENDER_TIMEOUT = 60
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def find_browser():
    """Chromium's path; skip without it, unless CI is set: there a missing browser is a failure."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get('CI', '').lower() not in ('', '0', 'false', 'no'):
        pytest.fail('chromium is not installed but CI is set: install it (apt-get install -y chromium)')
    pytest.skip('chromium is not installed (apt-get install -y chromium); with CI=true this test fails instead')


def png_pixels(data):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA, non-interlaced PNG, with the scanline filters undone."""
    assert data[:8] == PNG_SIGNATURE, 'not a PNG'
    position, chunks = 8, {}
    while position < len(data):
        length, kind = struct.unpack('>I4s', data[position : position + 8])
        chunks.setdefault(kind, []).append(data[position + 8 : position + 8 + length])
        position += 12 + length
    header = struct.unpack('>IIBBBBB', chunks[b'IHDR'][0])  # width, height, depth, colour, compression, filter, interlace
    width, height, depth, colour, interlace = header[0], header[1], header[2], header[3], header[6]
    assert depth == 8 and colour in (2, 6) and interlace == 0, 'unexpected PNG format'
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b''.join(chunks[b'IDAT']))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, up_left = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                nearest = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up), (abs(estimate - up_left), 2, up_left))[2]
                line[x] = (line[x] + nearest) & 0xFF
        rows.append([tuple(line[x : x + 3]) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def render(browser, page, screenshot, profile, size=(1200, 800), scrollbars=False):
    """Screenshot the page with headless Chromium; its whole process group goes when done or out of time."""
    args = [
        browser,
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--user-data-dir=%s' % profile,
        '--screenshot=%s' % screenshot,
        '--window-size=%d,%d' % size,
        page.as_uri(),
    ]
    if not scrollbars:
        args.insert(-1, '--hide-scrollbars')
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ, HOME=str(profile)),
    )
    try:
        output = process.communicate(timeout=RENDER_TIMEOUT)[0]
    except subprocess.TimeoutExpired:
        output = b'timed out after %d s' % RENDER_TIMEOUT
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # chromium's helper processes share its group
        except ProcessLookupError:
            pass
        process.wait()
    return output.decode('utf-8', 'replace')
