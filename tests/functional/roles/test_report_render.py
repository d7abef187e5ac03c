# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet report, rendered by headless Chromium: it must paint a real page, with its verdicts' colours, and stay
small and readable for a 1,000-host fleet."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.xprotect.go.plugins.filter.report_entry import FilterModule as ReportEntry
from ansible_collections.xprotect.go.plugins.module_utils import _health as health

from tests.chromium import PNG_SIGNATURE, find_browser, png_pixels, render

from .helpers import RECORDING_SERVER, parse_report, service_url, validate_report

pytestmark = [pytest.mark.slow, pytest.mark.chromium]

# The verdicts' colours (the --v of each verdict's class in the template).
VERDICT_COLOURS = {
    'not_recording': (0xCF, 0x22, 0x2E),
    'unknown': (0x66, 0x39, 0xBA),
    'unreachable': (0x42, 0x4A, 0x53),
    'degraded': (0xF2, 0xB8, 0x26),
    'recording': (0x1A, 0x7F, 0x37),
}
FLEET = 1000
# Of 1,000 hosts: 100 not recording, 200 degraded, 30 unknown, 20 unreachable, 650 recording.
MIX = {'not_recording': 100, 'degraded': 200, 'unknown': 30, 'unreachable': 20}
MAX_PAGE_BYTES = 1_500_000
RECORDED = Path(__file__).resolve().parents[2] / 'unit' / 'plugins' / 'filter' / 'fixtures' / 'registered-results.json'
RENDER_PLAY = [
    {
        'name': 'Render the fleet report of given entries',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
        'tasks': [
            {'name': 'Write the report', 'ansible.builtin.include_role': {'name': 'xprotect.go.fleet_report', 'tasks_from': 'report.yml'}}
        ],
    }
]


def synthetic_result(index, recorded):
    """A service_info result of host `index` of the synthetic fleet, with its verdict and reasons as the module gives them.

    Hosts 0-99 have their Recording Server stopped, 100-299 their Image Import, 300-329 fail the query (unknown),
    330-349 cannot be reached, the rest are healthy; the names are shuffled so that no verdict comes in a block.
    """
    if index < 300:
        result = copy.deepcopy(recorded['standard'])
        stopped = 'recording_server' if index < 100 else 'image_import'
        result['services'][stopped].update(state='stopped', windows_state='Stopped', process_id=None)
    elif index < 350:
        shape = 'failed' if index < 330 else 'unreachable'
        result = copy.deepcopy(recorded[shape])
        kind = 'error' if shape == 'failed' else 'unreachable'
        result.update(health.unreadable(kind, result['msg']))
        return result
    else:
        result = copy.deepcopy(recorded['standard'])
    result.update(health.host_verdict(result['services']))
    result['warnings'] = health.warnings(result)
    return result


def fleet_entries(count=FLEET):
    """The report entries of a synthetic fleet, built by the role's own report_entry filter; hosts interleaved."""
    recorded = json.loads(RECORDED.read_text(encoding='utf-8'))['service_info']
    report_entry = ReportEntry().filters()['report_entry']
    # A stride coprime with the fleet's size spreads every verdict over the whole overview.
    order = [(position * 389) % count for position in range(count)]
    return [
        report_entry(
            synthetic_result(index, recorded),
            'xpgo-%04d' % position,
            '10.%d.%d.%d' % (position // 65536, position // 256 % 256, position % 256),
        )
        for position, index in enumerate(order)
    ]


def render_report(run_playbook, tmp_path, entries):
    """The role's own template and filters (tasks/report.yml, as the status playbook runs it) over the given entries."""
    playbook, variables = tmp_path / 'render.yml', tmp_path / 'entries.json'
    playbook.write_text(yaml.safe_dump(RENDER_PLAY, sort_keys=False), encoding='utf-8')
    variables.write_text(json.dumps({'_fleet_report_hosts': entries, 'fleet_report_dir': str(tmp_path)}), encoding='utf-8')
    return run_playbook(playbook, 'localhost,', '-c', 'local', '-e', '@%s' % variables)


def colour_counts(rows, colours):
    counts = dict.fromkeys(colours, 0)
    wanted = {rgb: name for name, rgb in colours.items()}
    for row in rows:
        for pixel in row:
            if pixel in wanted:
                counts[wanted[pixel]] += 1
    return counts


def test_a_1000_host_report_is_compact_and_shows_its_verdicts_at_a_glance(run_playbook, tmp_path):
    entries = fleet_entries()
    run = render_report(run_playbook, tmp_path, entries)
    assert 'XProtect Go fleet status: 1000 hosts, 650 recording, 200 degraded, 100 not recording, 30 unknown, 20 unreachable' in run.stdout
    page = tmp_path / 'xprotect-fleet-report.html'
    validate_report(json.loads((tmp_path / 'xprotect-fleet-report.json').read_text(encoding='utf-8')))

    # Compact: one CSS sheet, classes only, about 1 KB a host.
    size = page.stat().st_size
    assert size < MAX_PAGE_BYTES, 'the 1,000-host page is %d bytes' % size
    report = parse_report(page)
    assert report.inline_styles == 0 and report.external == [] and 'script' not in report.tags
    assert report.counts == {'not_recording': 100, 'unknown': 30, 'unreachable': 20, 'degraded': 200, 'recording': 650}
    assert len(report.tiles) == FLEET and len(report.hosts) == FLEET and not any(host['open'] for host in report.hosts.values())
    assert [verdict for _name, verdict, _reasons in report.attention] == (
        ['not recording'] * 100 + ['unknown'] * 30 + ['unreachable'] * 20 + ['degraded'] * 200
    )

    browser = find_browser()
    screenshot, profile = tmp_path / 'report.png', tmp_path / 'chromium-profile'
    profile.mkdir()
    output = render(browser, page, screenshot, profile, size=(1200, 900))
    assert screenshot.is_file(), 'no screenshot; chromium said:\n' + output
    width, height, rows = png_pixels(screenshot.read_bytes())
    assert (width, height) == (1200, 900)
    # At a glance: the whole overview is on the first screen, and its colours are the fleet's proportions. The overview
    # is the rows whose first tile column (the page's left margin, 24 px) is a verdict's colour.
    colours = set(VERDICT_COLOURS.values())
    tile_rows = [y for y, row in enumerate(rows) if row[30] in colours]
    assert tile_rows and tile_rows[-1] < height - 100, 'the overview does not fit on the first screen'
    counts = colour_counts(rows[tile_rows[0] : tile_rows[-1] + 1], VERDICT_COLOURS)
    assert all(counts.values()), counts
    traffic = {verdict: counts[verdict] for verdict in ('not_recording', 'degraded', 'recording')}
    total = sum(traffic.values())
    expected = {'not_recording': 100 / 950, 'degraded': 200 / 950, 'recording': 650 / 950}
    for verdict, share in expected.items():
        assert abs(traffic[verdict] / total - share) < 0.04, (verdict, traffic, expected)
    # Roughly one 16 x 16 tile's worth of colour per host (glyphs and anti-aliasing take a little).
    assert 0.7 * FLEET * 256 < sum(counts.values()) < 1.3 * FLEET * 256, counts


def test_report_renders_with_its_colours_in_headless_chromium(xprotect_fleet, run_playbook, sim_control, tmp_path):
    browser = find_browser()
    sim = xprotect_fleet({'standard': 1, 'custom': 1, 'image_server_domain_account': 1}, 3)
    sim_control.post(service_url(sim.fleet.hosts[0], RECORDING_SERVER), {'State': 'Stopped'})
    run_playbook('playbooks/status.yml', sim.inventory, env={'PWD': str(tmp_path)})
    screenshot, profile = tmp_path / 'report.png', tmp_path / 'chromium-profile'
    profile.mkdir()

    output = render(browser, tmp_path / 'xprotect-fleet-report.html', screenshot, profile)

    assert screenshot.is_file(), 'no screenshot; chromium said:\n' + output
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10000
    width, height, rows = png_pixels(data)
    assert (width, height) == (1200, 800)
    colours = {pixel for row in rows for pixel in row}
    assert len(colours) > 50, 'the page looks blank'
    # Problems first: the first host (Recording Server stopped) red, the domain-account Image Server amber, the custom
    # installation green, all on the first screen.
    assert {VERDICT_COLOURS[verdict] for verdict in ('not_recording', 'degraded', 'recording')} <= colours
