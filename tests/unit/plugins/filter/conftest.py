# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the filter plugins' tests: real registered results (fixtures/registered-results.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / 'fixtures'
_RESULTS = json.loads((FIXTURES / 'registered-results.json').read_text(encoding='utf-8'))


@pytest.fixture
def results():
    """The recorded results (fixtures/registered-results.json), a fresh copy per test."""
    return copy.deepcopy(_RESULTS)
