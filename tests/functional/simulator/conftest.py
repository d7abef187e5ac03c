# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the simulator's own tests: WS-Man messages for pywinrm, raw HTTP, threads."""

import types

import pytest
from tests.functional.simulator.helpers import (
    CIMV2_ALL,
    enumerate_all,
    enumerate_message,
    ENUMERATION,
    invoke_message,
    local_name,
    MILESTONE_SERVICES,
    page_of,
    plain_session,
    protocol_for,
    pull_message,
    raw_exchange,
    SERVICE_URI,
    wait_for_threads,
    WQL_DIALECT,
    WSMAN,
)


@pytest.fixture
def wsman():
    """The helpers above, for tests."""
    return types.SimpleNamespace(
        protocol_for=protocol_for,
        enumerate_message=enumerate_message,
        pull_message=pull_message,
        page_of=page_of,
        invoke_message=invoke_message,
        enumerate_all=enumerate_all,
        plain_session=plain_session,
        raw_exchange=raw_exchange,
        wait_for_threads=wait_for_threads,
        local_name=local_name,
        SERVICE_URI=SERVICE_URI,
        CIMV2_ALL=CIMV2_ALL,
        ENUMERATION=ENUMERATION,
        WSMAN=WSMAN,
        WQL_DIALECT=WQL_DIALECT,
        MILESTONE_SERVICES=MILESTONE_SERVICES,
    )
