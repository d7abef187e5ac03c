# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Mutated Windows replies: the parsers raise nothing but XProtectError (reproducible, bounded runs)."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import (
    XProtectError,
    parse_enumerate_response,
    parse_get_response,
    parse_invoke_response,
    parse_pull_response,
)

CAPTURES = Path(__file__).resolve().parents[4] / 'tests' / 'fixtures' / 'winrm-captures'
SEEDS = [
    'enumerate-win32_service-wql-star-ws2012-1-enumerate-response.xml',
    'enumerate-win32_service-wql-props-ws2012-1-enumerate-response-xmlfragment.xml',
    'enumerate-win32_service-wql-star-ws2012-4-pull-response-endofsequence.xml',
    'enumerate-win32_service-wql-props-ws2012-4-pull-response-xmlfragment-endofsequence.xml',
    'get-win32_logicaldisk-response.xml',
    'invoke-cim_datafile-delete-response.xml',
    'invoke-win32_process-create-response-msdocs-example.xml',
    'fault-cannotprocessfilter-wql-unknown-class.xml',
    'fault-destinationunreachable-wmi-get-instance-not-found.xml',
    'fault-quotalimit-msft_wmierror.xml',
]
PARSERS = {
    'enumerate': parse_enumerate_response,
    'pull': parse_pull_response,
    'get': parse_get_response,
    'invoke': lambda data: parse_invoke_response(data, 'Delete'),
}
TAG = re.compile(rb'</?([A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*')


def load_seeds():
    return [(CAPTURES / name).read_bytes() for name in SEEDS]


SEED_BYTES = load_seeds()


@st.composite
def mutated(draw):
    """A capture cut, bit-flipped, with tags swapped or renamed, bytes spliced in, or re-encoded."""
    data = draw(st.sampled_from(SEED_BYTES))
    for _round in range(draw(st.integers(min_value=1, max_value=3))):
        how = draw(st.sampled_from(['truncate', 'flip', 'swap_tags', 'rename_tag', 'splice', 'utf16', 'random']))
        if how == 'truncate':
            data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
        elif how == 'flip' and data:
            index = draw(st.integers(min_value=0, max_value=len(data) - 1))
            data = data[:index] + bytes([data[index] ^ draw(st.integers(min_value=1, max_value=255))]) + data[index + 1 :]
        elif how in ('swap_tags', 'rename_tag'):
            tags = list(TAG.finditer(data))
            if len(tags) >= 2:
                first, second = sorted(draw(st.lists(st.sampled_from(tags), min_size=2, max_size=2)), key=lambda m: m.start())
                if first.end() <= second.start():
                    replacement = second.group() if how == 'swap_tags' else first.group()[:1] + b'x:Junk'
                    data = (
                        data[: first.start()]
                        + replacement
                        + data[first.end() : second.start()]
                        + (first.group() if how == 'swap_tags' else second.group())
                        + data[second.end() :]
                    )
        elif how == 'splice':
            index = draw(st.integers(min_value=0, max_value=len(data)))
            junk = draw(
                st.sampled_from(
                    [
                        b'<!DOCTYPE x [<!ENTITY e "e">]>',
                        b'&e;',
                        b'<![CDATA[',
                        b'\x00',
                        b'\xff\xfe',
                        b'<',
                        b'>',
                        b'xsi:nil="true"',
                        b'</s:Body>',
                        b'<n:EndOfSequence/>',
                        b'<w:Items>',
                        b'&#0;',
                        b'&#x10FFFF;',
                    ]
                )
            )
            data = data[:index] + junk + data[index:]
        elif how == 'utf16':
            data = data.decode('utf-8', 'replace').encode(draw(st.sampled_from(['utf-16', 'utf-16-le', 'utf-16-be'])))
        elif how == 'random':
            data = draw(st.binary(max_size=300))
    return data


@st.composite
def restructured(draw):
    """A capture that stays well-formed XML but has elements removed, copied, renamed, moved, emptied or nil'ed."""
    root = ET.fromstring(draw(st.sampled_from(SEED_BYTES)))
    tags = sorted({element.tag for element in root.iter()})
    for _round in range(draw(st.integers(min_value=1, max_value=4))):
        parents = {child: parent for parent in root.iter() for child in parent}
        target = draw(st.sampled_from(list(root.iter())))
        parent = parents.get(target)
        how = draw(st.sampled_from(['remove', 'duplicate', 'rename', 'text', 'nil', 'move', 'empty']))
        if how == 'rename':
            target.tag = draw(st.sampled_from(tags))
        elif how == 'text':
            target.text = draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0xD7FF), max_size=20))
        elif how == 'nil':
            target.set('{http://www.w3.org/2001/XMLSchema-instance}nil', draw(st.sampled_from(['true', 'false', ' 1 '])))
        elif how == 'empty':
            target.clear()
        elif parent is not None and how == 'remove':
            parent.remove(target)
        elif parent is not None and how == 'duplicate':
            parent.append(copy.deepcopy(target))
        elif parent is not None and how == 'move':
            destination = draw(st.sampled_from([e for e in root.iter() if e is not target and target not in parents_chain(e, parents)]))
            parent.remove(target)
            destination.append(target)
    return ET.tostring(root)


def parents_chain(element, parents):
    chain = []
    while element in parents:
        element = parents[element]
        chain.append(element)
    return chain


@pytest.mark.parametrize('parser', sorted(PARSERS))
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.one_of(mutated(), restructured()))
def test_parsers_raise_only_xprotect_error(parser, data):
    try:
        result = PARSERS[parser](data)
    except XProtectError as error:
        assert error.kind in ('protocol', 'fault', 'not_found', 'access_denied', 'timeout')
        assert '\n' not in str(error)
    else:
        assert result is not None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_random_input_raises_only_protocol_errors(data):
    for parse in PARSERS.values():
        with pytest.raises(XProtectError) as caught:
            parse(data)
        assert caught.value.kind == 'protocol'
