# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for the WS-Management client tests: captures, settings and a scripted protocol."""

from __future__ import annotations


import pytest

from ansible_collections.xprotect.go.plugins.module_utils._connection import ConnectionSettings
from wsman_helpers import CAPTURES, FakeProtocol


@pytest.fixture
def capture():
    """capture(name) -> the bytes of a real Windows reply from tests/fixtures/winrm-captures."""

    def read(name):
        return (CAPTURES / name).read_bytes()

    return read


@pytest.fixture
def make_settings():
    def make(**changes):
        values = {
            'host': 'xp-go-01.example.test',
            'port': 5986,
            'scheme': 'https',
            'username': 'CORP\\xpgo-admin',
            'password': 'unit-test-password',
            'transport': 'ntlm',
            'connection': 'winrm',
        }
        values.update(changes)
        return ConnectionSettings(**values)

    return make


@pytest.fixture
def fake_protocol():
    return FakeProtocol
