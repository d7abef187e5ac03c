# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An undefined input fails as undefined in every filter (ansible-core < 2.19 passes it in; ansible-lint relies on it)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from jinja2 import Undefined

from ansible_collections.xprotect.go.plugins import filter as filter_package

FILTERS = {
    name: function
    for info in pkgutil.iter_modules(filter_package.__path__)
    for name, function in importlib.import_module('%s.%s' % (filter_package.__name__, info.name)).FilterModule().filters().items()
}


def test_every_filter_is_checked():
    assert len(FILTERS) >= 8


@pytest.mark.parametrize('name', sorted(FILTERS))
def test_an_undefined_first_input_is_undefined_not_a_filter_error(name):
    function = FILTERS[name]
    arguments = sum(1 for parameter in inspect.signature(function).parameters.values() if parameter.default is inspect.Parameter.empty)
    with pytest.raises(AnsibleUndefinedVariable) as caught:
        function(Undefined(name='outcomes'), *([None] * (arguments - 1)))
    assert not isinstance(caught.value, AnsibleFilterError)
    assert name in str(caught.value)
