# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for driving the event source with an asyncio.Queue against simulated hosts (no Java, no rulebook)."""

from __future__ import annotations


import pytest

from eda_helpers import Control


@pytest.fixture(autouse=True)
def own_maintenance_dir(tmp_path, monkeypatch):
    """Never the user's ~/.ansible/xprotect-go/maintenance: a test's default directory is its own."""
    path = tmp_path / 'maintenance-default'
    monkeypatch.setenv('XPROTECT_GO_MAINTENANCE_DIR', str(path))
    return path


@pytest.fixture
def control():
    return Control()
