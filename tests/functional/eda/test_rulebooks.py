# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two rulebooks: valid for ansible-rulebook, passing only known arguments, and alike but for the heal action."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_targets import ARGUMENTS
from tests.functional.eda.rulebook import eda_bin_dir
from tests.helpers import COLLECTIONS_DIR

RULEBOOKS = Path(__file__).resolve().parents[3] / 'extensions' / 'eda' / 'rulebooks'
LOCAL, CONTROLLER = RULEBOOKS / 'keep_recording.yml', RULEBOOKS / 'keep_recording_controller.yml'
SOURCE = 'xprotect.go.service_status'


def load(path):
    return yaml.safe_load(path.read_text(encoding='utf-8'))


@pytest.mark.parametrize('path', [LOCAL, CONTROLLER], ids=['keep_recording', 'keep_recording_controller'])
def test_the_source_gets_only_arguments_it_knows(path):
    for ruleset in load(path):
        for source in ruleset['sources']:
            assert set(source[SOURCE]) <= set(ARGUMENTS), set(source[SOURCE]) - set(ARGUMENTS)


def test_the_controller_rulebook_is_the_same_but_for_the_heal_action():
    local, controller = load(LOCAL), load(CONTROLLER)
    heal_local, heal_controller = local[0]['rules'][0]['action'], controller[0]['rules'][0]['action']
    assert heal_local['run_playbook']['name'] == 'xprotect.go.heal'
    assert (
        set(heal_controller) == {'run_job_template'} and heal_controller['run_job_template']['lock'] == heal_local['run_playbook']['lock']
    )
    local_rules, controller_rules = copy.deepcopy(local[0]['rules']), copy.deepcopy(controller[0]['rules'])
    del local_rules[0]['action'], controller_rules[0]['action']
    assert local_rules == controller_rules
    local_args, controller_args = local[0]['sources'][0][SOURCE], controller[0]['sources'][0][SOURCE]
    assert {key: value for key, value in controller_args.items() if key in local_args} == local_args
    assert {key: value for key, value in local[0].items() if key not in ('rules', 'sources')} == {
        key: value for key, value in controller[0].items() if key not in ('rules', 'sources')
    }


def test_ansible_rulebook_accepts_both():
    """ansible-rulebook's own schema and condition parser, from .venv-eda (no Java needed)."""
    python = eda_bin_dir() / 'python'
    if not python.exists():
        pytest.skip('ansible-rulebook is not installed in %s (make .venv-eda/.requirements.stamp)' % eda_bin_dir())
    code = '\n'.join(
        [
            'import sys, yaml',
            'from ansible_rulebook.validators import Validate',
            'from ansible_rulebook.rules_parser import parse_rule_sets',
            'for path in sys.argv[1:]:',
            '    data = yaml.safe_load(open(path))',
            '    Validate.rulebook(data)',
            '    rulesets = parse_rule_sets(data)',
            '    print(path, len(rulesets[0].rules))',
        ]
    )
    # It resolves xprotect.go.service_status as it would at run time: ansible-galaxy on PATH, this checkout's collection.
    env = dict(
        os.environ,
        PATH=os.pathsep.join([str(eda_bin_dir()), os.environ.get('PATH', '')]),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_DIR),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False',
    )
    result = subprocess.run(
        [str(python), '-c', code, str(LOCAL), str(CONTROLLER)], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[-1] for line in result.stdout.splitlines()] == ['5', '5']
