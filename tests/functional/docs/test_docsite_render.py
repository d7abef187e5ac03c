# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's docs site, as scripts/docs-site built it: the module page paints, with its option table.

scripts/docs-site (a step of `make test`) builds the site with antsibull-docs and Sphinx, then runs
this module with XPGO_DOCSITE set to the site's HTML directory. Without it, as in a plain `pytest
tests/`, these tests skip: building the site takes the tools venv and half a minute.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.chromium import PNG_SIGNATURE, find_browser, png_pixels, render

pytestmark = [pytest.mark.slow, pytest.mark.chromium]

WINDOW = (1200, 1600)
WHITE = (0xFF, 0xFF, 0xFF)
EXTRA_DOCS = ('connection_settings', 'least_privilege', 'ci_pipelines', 'reliability', 'awx_aap')


@pytest.fixture(scope='module')
def site():
    path = os.environ.get('XPGO_DOCSITE')
    if not path:
        pytest.skip('XPGO_DOCSITE is not set: scripts/docs-site builds the docs site and runs these tests')
    return Path(path)


@pytest.fixture(scope='module')
def service_page(site):
    page = site / 'collections' / 'xprotect' / 'go' / 'service_module.html'
    assert page.is_file(), 'the site has no page for xprotect.go.service'
    return page


class OptionTables(HTMLParser):
    """The ids of the elements inside each <table class="... ansible-option-table ...">, table by table."""

    def __init__(self):
        super().__init__()
        self.tables, self._depth = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'table':
            if self._depth:
                self._depth += 1
            elif 'ansible-option-table' in (attrs.get('class') or '').split():
                self._depth = 1
                self.tables.append(set())
        if self._depth and attrs.get('id'):
            self.tables[-1].add(attrs['id'])

    def handle_endtag(self, tag):
        if tag == 'table' and self._depth:
            self._depth -= 1


def test_service_page_lists_its_options_in_the_option_table(service_page):
    parser = OptionTables()
    parser.feed(service_page.read_text(encoding='utf-8'))
    assert parser.tables, 'no ansible-option-table on the page'
    parameters = parser.tables[0]
    assert {'parameter-name', 'parameter-state'} <= parameters, sorted(parameters)
    # The shared connection options come from the doc fragment.
    assert {'parameter-host', 'parameter-password', 'parameter-transport'} <= parameters


def test_user_guide_pages_are_built_and_linked(site):
    index = (site / 'collections' / 'xprotect' / 'go' / 'index.html').read_text(encoding='utf-8')
    for name in EXTRA_DOCS:
        assert (site / 'collections' / 'xprotect' / 'go' / 'docsite' / (name + '.html')).is_file(), name
        assert 'docsite/%s.html' % name in index, '%s is not linked from the collection index' % name
    assert 'https://github.com/xprotect-go/xprotect.go/issues/new' in index  # links.yml
    assert 'https://forum.ansible.com/tag/xprotect' in index


def test_service_page_renders_in_headless_chromium(service_page, tmp_path):
    browser = find_browser()
    screenshot, profile = tmp_path / 'service.png', tmp_path / 'chromium-profile'
    profile.mkdir()

    output = render(browser, service_page, screenshot, profile, size=WINDOW, scrollbars=True)

    assert screenshot.is_file(), 'no screenshot; chromium said:\n' + output
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height, rows = png_pixels(data)
    assert (width, height) == WINDOW
    pixels = [pixel for row in rows for pixel in row]
    assert len(set(pixels)) > 50, 'the page looks blank'
    # Text, the side bar and the option table's shading cover a good part of the window.
    painted = sum(1 for pixel in pixels if pixel != WHITE) / len(pixels)
    assert painted > 0.1, 'only %.1f %% of the window is painted' % (100 * painted)
