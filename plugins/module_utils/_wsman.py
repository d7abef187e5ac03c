# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small WS-Management client for WMI: enumerate (WQL), get and invoke.

This is private to the collection: its interface may change without notice.

Requests go through pywinrm's authenticated transport (``winrm.protocol.Protocol``:
``build_wsman_header`` + ``send_message``). Bodies are built and replies parsed in _wsman_xml;
every failure becomes ``XProtectError`` in _wsman_errors, a one-line message that names the
host and what to do.
"""

from __future__ import annotations

import traceback
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._transport import bound
from ansible_collections.xprotect.go.plugins.module_utils._wql import check_length
from ansible_collections.xprotect.go.plugins.module_utils._wsman_errors import to_xprotect_error
from ansible_collections.xprotect.go.plugins.module_utils._wsman_build import (
    ACTION_ENUMERATE,
    ACTION_GET,
    ACTION_PULL,
    BODY,
    ENVELOPE,
    HEADER,
    IDENTIFIER,
    MAX_ELEMENTS,
    WQL_DIALECT,
    check,
    class_uri,
    to_xml,
    wmi_value,
)
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import (
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_PAGES,
    FaultReply,
    parse_enumerate_response,
    parse_get_response,
    parse_invoke_response,
    parse_pull_response,
)

if t.TYPE_CHECKING:
    from ansible_collections.xprotect.go.plugins.module_utils._connection import ConnectionSettings

try:
    from winrm.protocol import Protocol
except ImportError:
    HAS_WINRM = False
    WINRM_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_WINRM = True
    WINRM_IMPORT_ERROR = None


class _EnumerationDropped(Exception):
    """A Pull found its enumeration context gone; WsmanClient.enumerate starts over (once)."""


class WsmanClient:
    """WS-Management WMI operations against one host; counts the requests it sends in ``round_trips``."""

    def __init__(
        self, settings: ConnectionSettings, protocol: t.Any = None, max_pages: int = DEFAULT_MAX_PAGES, max_items: int = DEFAULT_MAX_ITEMS
    ) -> None:
        self.settings = settings
        self.round_trips = 0
        self.max_pages = max_pages
        self.max_items = max_items
        self._protocol = protocol
        self._given_protocol = protocol is not None

    def copy(self) -> t.Optional['WsmanClient']:
        """A client for the same host with a WinRM session of its own, for requests sent at the same time (a session,
        and its NTLM or Kerberos context, carries one message at a time). None for a client given its protocol."""
        return None if self._given_protocol else WsmanClient(self.settings, max_pages=self.max_pages, max_items=self.max_items)

    # -- public operations ----------------------------------------------------------------

    def enumerate(self, wql: str, namespace: str = 'root/cimv2', limit: t.Optional[int] = None) -> t.List[t.Any]:
        """All instances a WQL query selects (Enumerate, then Pull until EndOfSequence, bounded).

        limit: stop pulling once this many instances came (the first ones sent; the rest of the enumeration is left to
        expire on the server, after EnumerationTimeoutms). For reads whose size the query cannot bound, the event log's.

        A query longer than Windows takes is refused before anything is sent. When the listener has
        dropped the enumeration between two pulls (wsen:InvalidEnumerationContext: it expired, or
        WinRM restarted), the enumeration starts over once, from a fresh Enumerate.
        """
        try:
            check_length(wql)
        except XProtectError as error:
            error.host = self.settings.host
            raise
        resource_uri = class_uri(namespace, '*')
        # The discovery query is long; the start is enough to tell which query failed.
        what = 'WQL query "%s"' % (wql if len(wql) <= 100 else wql[:97] + '...')
        for _attempt in range(2):
            try:
                return self._enumerate(wql, resource_uri, what, namespace, limit)
            except _EnumerationDropped:
                continue
        raise XProtectError(
            '%s failed: the WinRM listener dropped the enumeration between two pulls (wsen:InvalidEnumerationContext), '
            'also after it was started over: WinRM on the host may be restarting or overloaded; check the host '
            '(EnumerationTimeoutms in winrm get winrm/config/service), then run the task again' % what,
            host=self.settings.host,
            kind=errors.FAULT,
        )

    def enumerate_many(self, queries: t.Iterable[str], namespace: str = 'root/cimv2') -> t.List[t.Any]:
        """The instances of several WQL queries (e.g. from _wql.build_or_chunks), in order, one list."""
        items: t.List[t.Any] = []
        for wql in queries:
            items.extend(self.enumerate(wql, namespace))
        return items

    def _enumerate(self, wql, resource_uri, what, namespace, limit=None):
        body = {
            'n:Enumerate': {
                'w:OptimizeEnumeration': None,
                'w:MaxElements': str(MAX_ELEMENTS),
                'w:Filter': {'@Dialect': WQL_DIALECT, '#text': wql},
            }
        }
        page = self._call(ACTION_ENUMERATE, resource_uri, body, parse_enumerate_response, what, namespace)
        items = list(page.items)
        pages = 1
        while not page.end_of_sequence:
            if limit is not None and len(items) >= limit:
                return items[:limit]
            if pages >= self.max_pages or len(items) > self.max_items:
                break
            body = {'n:Pull': {'n:EnumerationContext': page.context, 'n:MaxElements': str(MAX_ELEMENTS)}}
            try:
                page = self._call(ACTION_PULL, resource_uri, body, parse_pull_response, what, namespace)
            except FaultReply as error:
                if error.fault.invalid_enumeration_context:
                    raise _EnumerationDropped() from None
                raise
            items.extend(page.items)
            pages += 1
        if not page.end_of_sequence or len(items) > self.max_items:
            raise XProtectError(
                '%s: the enumeration did not end after %d pages and %d items (limits %d pages, %d items): the WinRM '
                'listener keeps sending pages; check the query or the host' % (what, pages, len(items), self.max_pages, self.max_items),
                host=self.settings.host,
                kind=errors.PROTOCOL,
            )
        return items if limit is None else items[:limit]

    def get(self, class_name: str, selectors: t.Dict[str, t.Any], namespace: str = 'root/cimv2') -> t.Any:
        """One instance by its key properties (WS-Transfer Get)."""
        check(IDENTIFIER, class_name, 'class name')
        what = 'Get %s %s' % (class_name, ' '.join('%s=%r' % item for item in selectors.items()))
        return self._call(
            ACTION_GET,
            class_uri(namespace, class_name),
            None,
            parse_get_response,
            what,
            namespace,
            selectors=selectors,
            service=self._service(class_name, selectors),
        )

    def invoke(
        self,
        class_name: str,
        method: str,
        selectors: t.Optional[t.Dict[str, t.Any]] = None,
        params: t.Optional[t.Dict[str, t.Any]] = None,
        namespace: str = 'root/cimv2',
        secrets: t.Iterable[str] = (),
    ) -> t.Any:
        """Call a WMI method; returns the <method>_OUTPUT properties (see return_value()).

        secrets: parameter values that must never show (a service account's password): scrubbed from any error.
        """
        check(IDENTIFIER, class_name, 'class name')
        check(IDENTIFIER, method, 'method name')
        resource_uri = class_uri(namespace, class_name)
        arguments: t.Dict[str, t.Any] = {'@xmlns:p': resource_uri}
        for name, value in (params or {}).items():
            check(IDENTIFIER, name, 'parameter name')
            arguments['p:' + name] = {'@xsi:nil': 'true'} if value is None else wmi_value(value)
        body = {'p:%s_INPUT' % method: arguments}
        what = '%s.%s' % (class_name, method)
        return self._call(
            '%s/%s' % (resource_uri, method),
            resource_uri,
            body,
            lambda reply: parse_invoke_response(reply, method),
            what,
            namespace,
            selectors=selectors,
            service=self._service(class_name, selectors),
            secrets=secrets,
        )

    # -- plumbing -------------------------------------------------------------------------

    @staticmethod
    def _service(class_name, selectors):
        return (selectors or {}).get('Name') if class_name == 'Win32_Service' else None

    def _get_protocol(self):
        if self._protocol is None:
            self._protocol = self._build_protocol()
        return self._protocol

    def _build_protocol(self):
        settings = self.settings
        if not HAS_WINRM:
            raise XProtectError(
                'the pywinrm Python library is required on the controller (pip install pywinrm)', host=settings.host, kind=errors.INVALID
            )
        try:
            read_timeout = int(settings.connection_timeout)
            operation_timeout = int(settings.operation_timeout)
        except (TypeError, ValueError):
            raise XProtectError(
                'connection_timeout and operation_timeout must be whole seconds', host=settings.host, kind=errors.INVALID
            ) from None
        if operation_timeout < 1 or read_timeout <= operation_timeout:
            raise XProtectError(
                'connection_timeout (%s s) must exceed operation_timeout (%s s), and both must be at least 1: the '
                'listener may take operation_timeout to answer' % (read_timeout, operation_timeout),
                host=settings.host,
                kind=errors.INVALID,
            )
        options: t.Dict[str, t.Any] = {
            'transport': settings.transport,
            'username': settings.username,
            'password': settings.password,
            'server_cert_validation': 'validate' if settings.validate_certs else 'ignore',
            'cert_pem': settings.client_cert,
            'cert_key_pem': settings.client_key,
            'message_encryption': settings.message_encryption,
            'read_timeout_sec': read_timeout,
            'operation_timeout_sec': operation_timeout,
        }
        if settings.ca_trust_path:
            # Otherwise pywinrm keeps honouring REQUESTS_CA_BUNDLE, as Ansible's winrm connection does.
            options['ca_trust_path'] = settings.ca_trust_path
        try:
            # Our transport: one deadline per message, bounded replies, no redirects (see _transport).
            return bound(Protocol(settings.endpoint, **options), settings=settings)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # pywinrm validates its arguments with several exception types; all become XProtectError.
            raise to_xprotect_error(exc, settings, 'setting up the WinRM client') from None

    def _message(self, protocol, action, resource_uri, body, selectors):
        envelope = protocol.build_wsman_header(action, resource_uri)
        header = envelope[HEADER]
        header['a:To'] = self.settings.endpoint
        if selectors:
            header['w:SelectorSet'] = {
                'w:Selector': [
                    {'@Name': check(IDENTIFIER, name, 'selector name'), '#text': wmi_value(value)} for name, value in selectors.items()
                ]
            }
        envelope[BODY] = body
        return '<?xml version="1.0" encoding="utf-8"?>' + to_xml(ENVELOPE, envelope)

    def _call(self, action, resource_uri, body, parse, what, namespace, selectors=None, service=None, secrets=()):
        """namespace: the WMI namespace of resource_uri, which an access-denied error names."""
        protocol = self._get_protocol()
        message = self._message(protocol, action, resource_uri, body, selectors)
        self.round_trips += 1
        try:
            reply = protocol.send_message(message)
            return parse(reply)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # pywinrm, requests and its auth plugins raise many unrelated types; this is the one place they become
            # XProtectError. "from None": a chained exception could carry the password into a traceback.
            error = to_xprotect_error(exc, self.settings, what, namespace, secrets=secrets)
            if error.service is None and service:
                error.service = service
            raise error from None
