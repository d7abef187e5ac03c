# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each filter plugin's documentation (the .yml beside it, what ansible-doc -t filter shows) agrees with its code."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from filter_helpers import load_filter

FILTER_DIR = Path(__file__).resolve().parents[4] / 'plugins' / 'filter'
NAMES = sorted(path.stem for path in FILTER_DIR.glob('*.py'))


def test_every_filter_has_its_documentation():
    assert NAMES, 'no filter plugins found in %s' % FILTER_DIR
    assert sorted(path.stem for path in FILTER_DIR.glob('*.yml')) == NAMES


@pytest.mark.parametrize('name', NAMES)
def test_the_documented_options_are_the_filters_arguments(name):
    document = yaml.safe_load((FILTER_DIR / ('%s.yml' % name)).read_text(encoding='utf-8'))
    documentation = document['DOCUMENTATION']
    assert documentation['name'] == name
    parameters = list(inspect.signature(load_filter(name)).parameters.values())
    options = documentation['options']
    assert options['_input']['required'] is True
    assert list(options) == ['_input'] + [parameter.name for parameter in parameters[1:]]
    for parameter in parameters[1:]:
        option = options[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            assert option.get('required') is True, parameter.name
        else:
            assert 'required' not in option and option.get('default') == parameter.default, parameter.name
    # Positional arguments, when documented, are the leading ones in order.
    positional = [item.strip() for item in documentation.get('positional', '').split(',') if item.strip()]
    assert positional == [parameter.name for parameter in parameters[1 : len(positional) + 1]]
    assert 'xprotect.go.%s' % name in document['EXAMPLES']
    assert document['RETURN']['_value']['description']
