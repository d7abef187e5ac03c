# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WS-Management requests: building the XML of a request body and its envelope. No I/O here.

This is private to the collection: its interface may change without notice.
Every value is escaped, and names that become XML tags or URIs are checked first.
"""

from __future__ import annotations

import re
import typing as t
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

NS_ENUMERATION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration'
NS_TRANSFER = 'http://schemas.xmlsoap.org/ws/2004/09/transfer'
WMI_RESOURCE_BASE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/'
WQL_DIALECT = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'

ACTION_ENUMERATE = NS_ENUMERATION + '/Enumerate'
ACTION_PULL = NS_ENUMERATION + '/Pull'
ACTION_GET = NS_TRANSFER + '/Get'

# Windows cuts pages by envelope size anyway; this only says "as many as fit".
MAX_ELEMENTS = 32000

IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_]{0,127}')
NAMESPACE = re.compile(r'root(/[A-Za-z0-9_]{1,64}){0,8}')
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML_CHAR = re.compile('[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')

# Keys of the dict pywinrm's build_wsman_header returns (xmltodict shape).
ENVELOPE = 'env:Envelope'
HEADER = 'env:Header'
BODY = 'env:Body'


def _xml_text(value):
    text = str(value)
    if _NOT_XML_CHAR.search(text):
        raise XProtectError('value %r holds characters XML cannot carry' % text[:80], kind=errors.INVALID)
    return text


def to_xml(tag: str, value: t.Any) -> str:
    """Serialise pywinrm's xmltodict-shaped dict ('@attr', '#text', 'prefix:child') with escaping."""
    if isinstance(value, list):
        return ''.join(to_xml(tag, item) for item in value)
    attributes = []
    text = ''
    children = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith('@'):
                attributes.append(' %s=%s' % (key[1:], quoteattr(_xml_text(item))))
            elif key == '#text':
                text = escape(_xml_text(item))
            else:
                children.append(to_xml(key, item))
    elif value is not None:
        text = escape(_xml_text(value))
    return '<%s%s>%s%s</%s>' % (tag, ''.join(attributes), text, ''.join(children), tag)


def check(pattern: t.Pattern[str], value: t.Any, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise XProtectError('invalid WMI %s %r' % (what, value), kind=errors.INVALID)
    return value


def class_uri(namespace: str, class_name: str) -> str:
    return '%s%s/%s' % (WMI_RESOURCE_BASE, check(NAMESPACE, namespace, 'namespace'), class_name)


def wmi_value(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value
