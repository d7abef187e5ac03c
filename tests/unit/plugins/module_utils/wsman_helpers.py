# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the tests under tests/unit/plugins/module_utils: plain functions, classes and constants (conftest.py holds only
fixtures and hooks; tests import these from here)."""

from __future__ import annotations

from pathlib import Path

from winrm.protocol import Protocol


REPO_ROOT = Path(__file__).resolve().parents[4]
CAPTURES = REPO_ROOT / 'tests' / 'fixtures' / 'winrm-captures'


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
