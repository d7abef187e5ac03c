# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the roles' and playbooks' tests: quick fleets, simulator state, the HTML report's structure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import jsonschema

from ansible_collections.xprotect.go.plugins.module_utils._catalog import SERVICES
from tests.helpers import XPROTECT_NAMES

RECORDING_SERVER = 'Milestone XProtect Recording Server'
# Quick services keep a playbook run around a few seconds; settle times of 1 s likewise.
QUICK = {'start_seconds': 0.1, 'stop_seconds': 0.05}
SETTLE = ('-e', 'services_settle_seconds=1', '-e', 'rolling_restart_settle_seconds=1')
# A service's row in a host's table is known by its title (the first cell).
KEY_BY_TITLE = {entry['title']: key for key, entry in SERVICES.items()}
REPORT_SCHEMA = Path(__file__).resolve().parents[3] / 'roles' / 'fleet_report' / 'files' / 'fleet-report.schema.json'


@dataclass
class SimFleet:
    """A started Fleet and its inventory; hosts by name."""

    fleet: object
    inventory: Path

    def host(self, name):
        return self.fleet.host(name)

    @property
    def names(self):
        return [running.name for running in self.fleet.hosts]


def service_url(running, name):
    """The control endpoint's URL of one service of a host (POST configure() settings to it)."""
    return '%s/services/%s' % (running.control_url, quote(name))


def xprotect_state_set(running):
    """The set of states a host's XProtect services are in ({'Running'} when all run)."""
    return {state for state, _pid in xprotect_states(running).values()}


def xprotect_states(running):
    """{service Name: (State, ProcessId)} of a host's XProtect services, from the simulator's own state."""
    snapshot = running.state.snapshot()
    return {name: (entry['State'], entry['ProcessId']) for name, entry in snapshot.items() if name in XPROTECT_NAMES}


class ReportParser(HTMLParser):
    """The parts of the fleet report the tests check: counts, tiles, the attention table, host details, styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        # name -> {'classes', 'verdict', 'open', 'rows': {service key: [classes of the state cell]}, 'reasons', 'warnings', 'text'}
        self.hosts = {}
        self.counts = {}  # verdict -> the number its count shows
        self.tiles = []  # (host, verdict, title) per tile, in order
        self.attention = []  # (host, verdict shown, [reason texts]) per row, in order
        self.order = []  # the ids of the page's parts, in order: counts, tiles, attention, h-<host>...
        self.tags = set()
        self.style = ''
        self.inline_styles = 0  # style="" attributes: none, colours come from classes
        self.external = []  # src/href attributes that leave the page: a self-contained page has none
        self._host = None
        self._row = None
        self._list = None
        self._count = None
        self._attention = None
        self._cell = None
        self._cells = 0
        self._first_cell = False
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        classes = (attrs.get('class') or '').split()
        self.inline_styles += 'style' in attrs
        self.external += [attrs[name] for name in ('src', 'href') if name in attrs and not attrs[name].startswith('#')]
        if attrs.get('id'):
            self.order.append(attrs['id'])
        if tag == 'style':
            self._in_style = True
        elif tag == 'details' and 'host' in classes:
            self._host = self.hosts.setdefault(
                attrs['id'][len('h-') :],
                {'classes': classes, 'verdict': classes[1], 'open': 'open' in attrs, 'rows': {}, 'reasons': [], 'warnings': [], 'text': ''},
            )
        elif tag == 'li' and 'c' in classes and 'data-verdict' in attrs:
            self._count = attrs['data-verdict']
            self.counts[self._count] = ''
        elif tag == 'a' and 't' in classes:
            self.tiles.append((attrs['href'][len('#h-') :], classes[1], attrs.get('title')))
        elif tag == 'tr' and self._host is None and 'data-host' in attrs:
            self._attention = [attrs['data-host'], '', []]
            self.attention.append(self._attention)
        elif tag == 'td' and self._attention is not None:
            self._cell = classes
        elif tag == 'tr' and self._host is not None:
            self._row, self._cells = None, 0
        elif tag == 'td' and self._host is not None:
            self._cells += 1
            if self._cells == 1:
                self._first_cell = True
            elif self._row is not None and any(name.startswith('state-') for name in classes):
                self._row.extend(classes)
        elif tag == 'li' and self._host is not None and ('reason' in classes or 'warning' in classes):
            # An item ends where the next begins (end tags are optional).
            self._list = self._host['reasons' if 'reason' in classes else 'warnings']
            self._list.append('')
        elif tag == 'li' and self._attention is not None:
            self._attention[2].append('')

    def handle_endtag(self, tag):
        if tag == 'style':
            self._in_style = False
        elif tag == 'details':
            self._host = None
            self._row = None
        elif tag == 'tr':
            self._attention = None
        elif tag in ('ul', 'li'):
            self._list = None
            self._count = None
        elif tag == 'td':
            self._cell = None

    def handle_data(self, data):
        if self._first_cell:
            self._first_cell = False
            if data.strip() in KEY_BY_TITLE and self._host is not None:
                self._row = self._host['rows'].setdefault(KEY_BY_TITLE[data.strip()], [])
        if self._in_style:
            self.style += data
        if self._host is not None:
            self._host['text'] += data
        if self._list is not None:
            self._list[-1] += data
        if self._count is not None and not self.counts[self._count]:
            self.counts[self._count] = data
        if self._attention is not None and self._cell is not None:
            if 'b' in self._cell:
                self._attention[1] += data
            elif self._attention[2]:
                self._attention[2][-1] += data

    def close(self):
        super().close()
        self.counts = {verdict: int(number) for verdict, number in self.counts.items()}


def parse_report(path):
    parser = ReportParser()
    parser.feed(Path(path).read_text(encoding='utf-8'))
    parser.close()
    return parser


def validate_report(document):
    """Check a JSON report against the role's JSON Schema (draft 2020-12); raises jsonschema.ValidationError."""
    schema = json.loads(REPORT_SCHEMA.read_text(encoding='utf-8'))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
