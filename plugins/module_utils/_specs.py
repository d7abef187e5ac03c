# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument specs of the modules, built from small blocks; each block has a doc fragment.

This is private to the collection: its interface may change without notice.
The action plugins validate with these same specs, so both ways in accept the same input.
"""

from __future__ import annotations

import copy

from ansible_collections.xprotect.go.plugins.module_utils._connection_options import CONNECTION_SPEC

# doc fragment xprotect.go._connection: CONNECTION_SPEC, from the table in _connection_options.
# doc fragment xprotect.go._service_names
SERVICE_NAMES_SPEC = {
    'service_names': {'type': 'dict'},
}

# The service module's timeout (seconds per service), stated once: its spec below, _plan.validate_request's
# range check and the module's documentation (a unit test compares) all read these.
TASK_TIMEOUT = 120
TASK_TIMEOUT_MIN = 1
TASK_TIMEOUT_MAX = 86400

SERVICE_CONTROL_SPEC = {
    'name': {'type': 'list', 'elements': 'str', 'required': True},
    'state': {'type': 'str', 'choices': ['started', 'stopped', 'restarted']},
    'start_mode': {'type': 'str', 'choices': ['auto', 'delayed', 'manual', 'disabled']},
    'timeout': {'type': 'int', 'default': TASK_TIMEOUT},
    'missing': {'type': 'str', 'choices': ['auto', 'skip', 'fail'], 'default': 'auto'},
    'force_dependents': {'type': 'bool', 'default': False},
    # The log-on account (_accounts); account_password is a secret: no_log, and scrubbed from every error.
    'account': {'type': 'str'},
    'account_password': {'type': 'str', 'no_log': True},
    # no_log False: the name has 'password' in it, the value is a choice (Ansible warns unless told).
    'update_password': {'type': 'str', 'choices': ['always', 'on_change'], 'default': 'on_change', 'no_log': False},
}
# The rules between SERVICE_CONTROL_SPEC's options.
SERVICE_CONTROL_RULES = {
    'required_one_of': [['state', 'start_mode', 'account']],
    'required_by': {'account_password': 'account'},
}

# service_info's reading of the Service Control Manager's failure events (_eventlog): when, and how far back.
# The look-back's default and range are stated once, here (the module's documentation says the same; a test compares).
FAILURE_LOOKBACK = 1440
FAILURE_LOOKBACK_MIN = 1
FAILURE_LOOKBACK_MAX = 527040
FAILURES_SPEC = {
    'failures': {'type': 'str', 'choices': ['auto', 'always', 'never'], 'default': 'auto'},
    'failure_lookback': {'type': 'int', 'default': FAILURE_LOOKBACK},
}

# fleet_service_info and fleet_service_plan: which hosts (default: the play batch) and how many are read at once (default: the forks).
# No connection options: each host is read with its own inventory settings only, so no task-wide
# credential can reach another host's endpoint.
FLEET_CONCURRENCY_MAX = 1000
FLEET_READ_SPEC = {
    'hosts': {'type': 'list', 'elements': 'str'},
    'concurrency': {'type': 'int'},
}

REPORT_FILES_SPEC = {
    'files': {
        'type': 'list',
        'elements': 'dict',
        'required': True,
        'options': {'path': {'type': 'path', 'required': True}, 'content': {'type': 'str', 'required': True}},
    },
    'mode': {'type': 'str', 'default': '0644'},
}

# The inventory variable that maps catalog keys to a host's real service names.
SERVICE_NAMES_VARIABLE = 'xprotect_go_service_names'


def _merge(*blocks):
    spec = {}
    for block in blocks:
        spec.update(copy.deepcopy(block))
    return spec


def service_info_spec() -> dict:
    return {'argument_spec': _merge(CONNECTION_SPEC, SERVICE_NAMES_SPEC, FAILURES_SPEC), 'supports_check_mode': True}


def fleet_service_info_spec() -> dict:
    return {'argument_spec': _merge(FLEET_READ_SPEC, FAILURES_SPEC), 'supports_check_mode': True}


def fleet_service_plan_spec() -> dict:
    return {
        'argument_spec': _merge(FLEET_READ_SPEC, SERVICE_CONTROL_SPEC),
        **copy.deepcopy(SERVICE_CONTROL_RULES),
        'supports_check_mode': True,
    }


def fleet_report_files_spec() -> dict:
    return {'argument_spec': dict(REPORT_FILES_SPEC), 'supports_check_mode': True}


def service_spec() -> dict:
    return {
        'argument_spec': _merge(CONNECTION_SPEC, SERVICE_NAMES_SPEC, SERVICE_CONTROL_SPEC),
        **copy.deepcopy(SERVICE_CONTROL_RULES),
        'supports_check_mode': True,
    }
