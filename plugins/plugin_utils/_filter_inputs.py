# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the collection's filters wrap their logic (in _roles) for Ansible. Private to the collection.

Ansible (and ansible-lint, which renders templates with variables it cannot know) expects a filter
to let an undefined input fail as undefined, not as a filter error: before ansible-core 2.19 the
filter is called with the Undefined itself.
"""

from __future__ import annotations

import functools
import typing as t

from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from jinja2 import Undefined

from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError


def require_defined(filter_name: str, *values: t.Any) -> None:
    """Raise AnsibleUndefinedVariable when any of the filter's inputs is undefined."""
    for value in values:
        if isinstance(value, Undefined):
            raise AnsibleUndefinedVariable('xprotect.go.%s: an input is undefined' % filter_name)


def ansible_filter(function: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``function`` of _roles as the filter xprotect.go.<its name>: undefined inputs fail as undefined, bad data as a filter error.

    The wrapper keeps the function's signature (functools.wraps), which the filters' documentation is checked against.
    """
    name = function.__name__

    @functools.wraps(function)
    def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
        require_defined(name, *args, *kwargs.values())
        try:
            return function(*args, **kwargs)
        except RoleDataError as problem:
            raise AnsibleFilterError('xprotect.go.%s: %s' % (name, problem)) from problem

    return run
