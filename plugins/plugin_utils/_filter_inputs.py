# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the collection's filters do with an undefined input. Private to the collection.

Ansible (and ansible-lint, which renders templates with variables it cannot know) expects a filter
to let an undefined input fail as undefined, not as a filter error: before ansible-core 2.19 the
filter is called with the Undefined itself.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleUndefinedVariable
from jinja2 import Undefined


def require_defined(filter_name: str, *values: t.Any) -> None:
    """Raise AnsibleUndefinedVariable when any of the filter's inputs is undefined."""
    for value in values:
        if isinstance(value, Undefined):
            raise AnsibleUndefinedVariable('xprotect.go.%s: an input is undefined' % filter_name)
