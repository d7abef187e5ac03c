# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WS-Enumeration as Windows' WinRM answers it: Enumerate, Pull and Release over open contexts.

OptimizeEnumeration, MaxElements (default 1), pages cut near 75 KB, a fresh context per page,
contexts expiring after EnumerationTimeoutms (240 s) idle, and the enumeration modes of
WS-Management (DSP0226 8.7): objects (the default), EnumerateEPR (endpoint references only) and
EnumerateObjectAndEPR (w:Item holding the object, then its endpoint reference).
"""

from __future__ import annotations

import typing as t
from xml.sax.saxutils import escape, quoteattr

if t.TYPE_CHECKING:
    import xml.etree.ElementTree as ET

from . import soap, wsman_faults

# WinRM's default EnumerationTimeoutms (winrm get winrm/config/service): an enumeration context not
# pulled for this long is gone, and a Pull with it gets InvalidEnumerationContext. Per host through
# the control endpoint (faults: enumeration_timeout).
ENUMERATION_TIMEOUT = 240.0
MODE_EPR = 'EnumerateEPR'
MODE_OBJECT_AND_EPR = 'EnumerateObjectAndEPR'
MAX_ENUMERATIONS = 500  # open contexts kept per host; the oldest go first
PAGE_LIMIT = 75 * 1024  # Windows cuts Pull pages near 75 KB whatever MaxElements asks for
ENVELOPE_OVERHEAD = 1024  # room for the envelope around the items


class _Context:
    __slots__ = ('items', 'position', 'deadline')

    def __init__(self, items, position, deadline):
        self.items = items
        self.position = position
        self.deadline = deadline


def _reply(action, request, body):
    return soap.envelope('enumeration', soap.NS_ENUMERATION + '/' + action, request.message_id, body, request.operation_id)


def endpoint_reference(class_uri: str, key: str, value: str) -> str:
    """A wsa:EndpointReference to one instance: the anonymous address, its resource URI and key selector."""
    return (
        '<a:EndpointReference><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI>'
        '<w:SelectorSet><w:Selector Name=%s>%s</w:Selector></w:SelectorSet></a:ReferenceParameters></a:EndpointReference>'
        % (soap.ANONYMOUS, escape(class_uri), quoteattr(key), escape(value))
    )


def mode_items(enumerate_element: ET.Element, selected: t.Iterable[tuple[str, str]], class_uri: str, key: str = 'Name') -> list[str]:
    """The items to enumerate for the request's w:EnumerationMode; selected is [(key value, object XML)]."""
    mode_element = soap.child(enumerate_element, soap.NS_WSMAN, 'EnumerationMode')
    mode = (mode_element.text or '').strip() if mode_element is not None else None
    if mode is None:
        return [item for _value, item in selected]
    if mode == MODE_EPR:
        return [endpoint_reference(class_uri, key, value) for value, _item in selected]
    if mode == MODE_OBJECT_AND_EPR:
        return ['<w:Item>%s%s</w:Item>' % (item, endpoint_reference(class_uri, key, value)) for value, item in selected]
    # DSP0226 8.7: an enumeration mode the service does not support is wsman:UnsupportedFeature, detail EnumerationMode.
    raise wsman_faults.unsupported_feature('EnumerationMode')


def max_elements(element: ET.Element, namespace: str) -> int:
    """MaxElements of an Enumerate (w:) or Pull (n:); 1 when absent, as WS-Management specifies."""
    count = soap.child(element, namespace, 'MaxElements')
    return soap.parse_count(count.text, 'MaxElements') if count is not None else 1


def page_end(items: t.Sequence[str], start: int, count: int, max_envelope_size: int | None) -> int:
    """Index after the last item of the page starting at start: at most count items, and near 75 KB."""
    limit = min(PAGE_LIMIT, max_envelope_size or PAGE_LIMIT) - ENVELOPE_OVERHEAD
    size = 0
    end = start
    while end < len(items) and end - start < count:
        size += len(items[end].encode('utf-8'))
        if end > start and size > limit:
            break
        end += 1
    return end


class Enumerations:
    """The open enumeration contexts of one host, and its answers to Enumerate, Pull and Release.

    endless (fault injection): when true, enumerations never end; every page carries a context.
    """

    def __init__(self) -> None:
        self.endless = False
        self.timeout = ENUMERATION_TIMEOUT
        self._open: dict[str, _Context] = {}

    def clear(self) -> None:
        self._open = {}

    def open_count(self, now: float) -> int:
        self._forget_expired(now)
        return len(self._open)

    def expire_all(self) -> int:
        """Make every open context invalid at once (as if EnumerationTimeoutms had passed); returns how many."""
        count, self._open = len(self._open), {}
        return count

    def enumerate(self, request: soap.Request, enumerate_element: ET.Element, items: list[str], now: float) -> str:
        """The EnumerateResponse for the selected items (XML text each)."""
        self._forget_expired(now)
        optimize = soap.child(enumerate_element, soap.NS_WSMAN, 'OptimizeEnumeration') is not None
        if not optimize:
            context = self._keep(items, 0, now)
            body = '<n:EnumerateResponse><n:EnumerationContext>%s</n:EnumerationContext></n:EnumerateResponse>' % context
            return _reply('EnumerateResponse', request, body)
        end = page_end(items, 0, max_elements(enumerate_element, soap.NS_WSMAN), request.max_envelope_size)
        page = ''.join(items[:end])
        if end == len(items) and not self.endless:
            # Everything fits: one round trip, an empty context and w:EndOfSequence (as Server 2003 shows).
            body = (
                '<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext><w:Items>%s</w:Items>'
                '<w:EndOfSequence/></n:EnumerateResponse>' % page
            )
        else:
            body = '<n:EnumerateResponse><n:EnumerationContext>%s</n:EnumerationContext><w:Items>%s</w:Items></n:EnumerateResponse>' % (
                self._keep(items, end, now),
                page,
            )
        return _reply('EnumerateResponse', request, body)

    def pull(self, request: soap.Request, now: float) -> str:
        pull = soap.child(request.body, soap.NS_ENUMERATION, 'Pull')
        if pull is None:
            raise wsman_faults.missing_element('Pull')
        context = self._take(pull, now)
        items, start = context.items, context.position
        if self.endless and start >= len(items):
            start = 0
        end = page_end(items, start, max_elements(pull, soap.NS_ENUMERATION), request.max_envelope_size)
        page = ''.join(items[start:end])
        if end >= len(items) and not self.endless:
            body = '<n:PullResponse><n:Items>%s</n:Items><n:EndOfSequence/></n:PullResponse>' % page
        else:
            body = '<n:PullResponse><n:EnumerationContext>%s</n:EnumerationContext><n:Items>%s</n:Items></n:PullResponse>' % (
                self._keep(items, end, now),
                page,
            )
        return _reply('PullResponse', request, body)

    def release(self, request: soap.Request) -> str:
        release = soap.child(request.body, soap.NS_ENUMERATION, 'Release')
        if release is None:
            raise wsman_faults.missing_element('Release')
        self._take(release, None)
        return _reply('ReleaseResponse', request, '')

    def _keep(self, items, position, now):
        """Store the rest of an enumeration under a new context id (Windows hands out a new one per page)."""
        while len(self._open) >= MAX_ENUMERATIONS:
            del self._open[next(iter(self._open))]
        context = soap.new_uuid()
        self._open[context] = _Context(items, position, now + self.timeout)
        return context

    def _take(self, element, now):
        context_element = soap.child(element, soap.NS_ENUMERATION, 'EnumerationContext')
        context = (context_element.text or '').strip() if context_element is not None else ''
        found = self._open.pop(context, None)
        if found is None or (now is not None and _expired(found, now)):
            raise wsman_faults.invalid_context()
        return found

    def _forget_expired(self, now):
        for context in [context for context, found in self._open.items() if _expired(found, now)]:
            del self._open[context]


def _expired(context, now):
    # A deadline equal to now counts as passed, so that a timeout of 0 expires contexts at once.
    return context.deadline <= now
