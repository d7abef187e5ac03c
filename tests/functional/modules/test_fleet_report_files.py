# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.fleet_report_files in a play: written on the controller as given (a rendered template is not rendered
again), left alone when unchanged, nothing written in check mode, and a missing directory named before any write."""

from __future__ import annotations

import stat

PLAY = """
- name: Write two files
  hosts: all
  gather_facts: false
  tasks:
    - name: Write them
      xprotect.go.fleet_report_files:
        files:
          - path: "{{ out }}/page.html"
            content: "{{ lookup('ansible.builtin.template', 'page.html.j2') }}"
          - path: "{{ out }}/data.json"
            content: "{{ {'hosts': groups['all'] | length} | to_nice_json }}\\n"
        mode: "0640"
"""


def write_play(tmp_path):
    (tmp_path / 'templates').mkdir()
    # The page shows text that looks like a template, as a report shows a host's message: it must stay text.
    (tmp_path / 'templates' / 'page.html.j2').write_text("<p>{{ '{{ 6 * 7 }}' }} on {{ groups['all'] | length }} hosts</p>\n")
    (tmp_path / 'play.yml').write_text(PLAY)
    (tmp_path / 'inventory.ini').write_text('[all]\nnvr[01:03] ansible_connection=local\n')
    out = tmp_path / 'out'
    out.mkdir()
    return out


def test_files_are_written_once_as_given_and_left_alone_when_unchanged(run_playbook, tmp_path):
    out = write_play(tmp_path)
    checked = run_playbook(tmp_path / 'play.yml', tmp_path / 'inventory.ini', '-e', 'out=%s' % out, check_mode=True)
    assert list(out.iterdir()) == [] and checked.recap['nvr01']['changed'] == 1, 'check mode writes nothing'
    assert list(checked.recap) == ['nvr01'], 'one task for the play'

    first = run_playbook(tmp_path / 'play.yml', tmp_path / 'inventory.ini', '-e', 'out=%s' % out)
    assert (out / 'page.html').read_text(encoding='utf-8') == '<p>{{ 6 * 7 }} on 3 hosts</p>\n'
    assert (out / 'data.json').read_text(encoding='utf-8') == '{\n    "hosts": 3\n}\n'
    assert stat.S_IMODE((out / 'page.html').stat().st_mode) == 0o640
    assert first.recap['nvr01']['changed'] == 1 and sorted(p.name for p in out.iterdir()) == ['data.json', 'page.html']

    again = run_playbook(tmp_path / 'play.yml', tmp_path / 'inventory.ini', '-e', 'out=%s' % out)
    assert again.recap['nvr01']['changed'] == 0


def test_a_missing_directory_fails_the_task_before_any_file_is_written(run_playbook, tmp_path):
    out = write_play(tmp_path)
    run = run_playbook(tmp_path / 'play.yml', tmp_path / 'inventory.ini', '-e', 'out=%s/missing' % out, expect_rc=2)
    assert 'the directory of %s/missing/page.html does not exist on the controller' % out in ' '.join(run.stdout.split())
    assert list(out.iterdir()) == []
