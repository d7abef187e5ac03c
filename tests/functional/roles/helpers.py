# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the roles' and playbooks' tests: quick fleets, simulator state, the HTML report's structure."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from xprotect_go_simulator.profiles import XPROTECT_SERVICES

RECORDING_SERVER = 'Milestone XProtect Recording Server'
XPROTECT_NAMES = tuple(service['Name'] for service in XPROTECT_SERVICES)
# Quick services keep a playbook run around a few seconds; settle times of 1 s likewise.
QUICK = {'start_seconds': 0.1, 'stop_seconds': 0.05}
SETTLE = ('-e', 'services_settle_seconds=1', '-e', 'rolling_restart_settle_seconds=1')


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
    """The parts of the fleet report the tests check: host sections, service rows, warnings, styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hosts = {}          # name -> {'classes', 'status', 'rows': {key: [classes of the state cell]}, 'warnings', 'text'}
        self.tags = set()
        self.style = ''
        self.external = []       # src/href attributes: a self-contained page has none
        self._host = None
        self._row = None
        self._cell_classes = None
        self._in_style = False
        self._in_warning = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        classes = (attrs.get('class') or '').split()
        self.external += [attrs[name] for name in ('src', 'href') if name in attrs]
        if tag == 'style':
            self._in_style = True
        elif tag == 'section' and 'data-host' in attrs:
            self._host = self.hosts.setdefault(attrs['data-host'], {
                'classes': classes, 'status': attrs.get('data-status'), 'rows': {}, 'warnings': [], 'text': ''})
        elif tag == 'tr' and self._host is not None and 'data-service' in attrs:
            self._row = self._host['rows'].setdefault(attrs['data-service'], [])
        elif tag == 'td' and self._row is not None and 'state' in classes:
            self._row.extend(classes)
        elif tag == 'li' and 'warning' in classes and self._host is not None:
            self._in_warning = True
            self._host['warnings'].append('')

    def handle_endtag(self, tag):
        if tag == 'style':
            self._in_style = False
        elif tag == 'section':
            self._host = None
        elif tag == 'tr':
            self._row = None
        elif tag == 'li':
            self._in_warning = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        if self._host is not None:
            self._host['text'] += data
        if self._in_warning:
            self._host['warnings'][-1] += data


def parse_report(path):
    parser = ReportParser()
    parser.feed(Path(path).read_text(encoding='utf-8'))
    parser.close()
    return parser
