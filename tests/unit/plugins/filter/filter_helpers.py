# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the filter plugins' tests."""

from __future__ import annotations

import importlib


def load_filter(name):
    """The function Ansible calls for `xprotect.go.<name>`: FilterModule().filters()[name] of plugins/filter/<name>.py."""
    module = importlib.import_module('ansible_collections.xprotect.go.plugins.filter.%s' % name)
    filters = module.FilterModule().filters()
    assert list(filters) == [name]
    return filters[name]
