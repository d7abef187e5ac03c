# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for the WS-Management client tests: captures, settings and a scripted protocol."""

from __future__ import annotations

from pathlib import Path

import pytest
from winrm.protocol import Protocol

from ansible_collections.xprotect.go.plugins.module_utils._connection import ConnectionSettings

REPO_ROOT = Path(__file__).resolve().parents[4]
CAPTURES = REPO_ROOT / 'tests' / 'fixtures' / 'winrm-captures'


@pytest.fixture
def capture():
    """capture(name) -> the bytes of a real Windows reply from tests/fixtures/winrm-captures."""
    def read(name):
        return (CAPTURES / name).read_bytes()
    return read


@pytest.fixture
def make_settings():
    def make(**changes):
        values = {'host': 'xp-go-01.example.test', 'port': 5986, 'scheme': 'https', 'username': 'CORP\\xpgo-admin',
                  'password': 'unit-test-password', 'transport': 'ntlm', 'connection': 'winrm'}
        values.update(changes)
        return ConnectionSettings(**values)
    return make


class FakeProtocol:
    """Stands in for winrm.protocol.Protocol: pywinrm's own headers, scripted replies, recorded messages.

    A reply is bytes/str (returned), an exception (raised) or a callable taking the request text.
    """

    def __init__(self, replies=()):
        self._real = Protocol('https://xp-go-01.example.test:5986/wsman', transport='basic', username='u', password='unused')
        self.replies = iter(replies)
        self.headers = []
        self.messages = []

    def build_wsman_header(self, action, resource_uri, shell_id=None, message_id=None):
        self.headers.append((action, resource_uri))
        return self._real.build_wsman_header(action, resource_uri, shell_id, message_id)

    def send_message(self, message):
        self.messages.append(message)
        reply = next(self.replies)
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(message)
        return reply


@pytest.fixture
def fake_protocol():
    return FakeProtocol
