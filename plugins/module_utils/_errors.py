# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's one exception type, its kinds, and the scrubbing of secrets from text.

This is private to the collection: its interface may change without notice.
Every layer raises and catches XProtectError from here; nothing imports the WS-Man client for it.
"""

from __future__ import annotations

import base64
import typing as t
from urllib.parse import quote as url_quote

# What went wrong, one word each. Ansible calls a host "unreachable" for UNREACHABLE and TIMEOUT.
UNREACHABLE = 'unreachable'        # no connection, or it was lost before an answer came
AUTH = 'auth'                      # the listener refused the credentials
TLS = 'tls'                        # the TLS handshake failed
TIMEOUT = 'timeout'                # no complete answer in time
ACCESS_DENIED = 'access_denied'    # authenticated, but not allowed
NOT_FOUND = 'not_found'            # no such service, class or instance
FAULT = 'fault'                    # any other WS-Management fault
PROTOCOL = 'protocol'              # a reply that is not what a WinRM listener sends
INVALID = 'invalid'                # bad input or settings: refused before anything is sent
SERVICE = 'service'                # Windows refused or failed a service control
ERROR = 'error'                    # none of the above (pywinrm missing, ...)

KINDS = (UNREACHABLE, AUTH, TLS, TIMEOUT, ACCESS_DENIED, NOT_FOUND, FAULT, PROTOCOL, INVALID, SERVICE, ERROR)

MASK = '********'


class XProtectError(Exception):
    """The collection's one exception type.

    ``kind`` is one of KINDS; ``str()`` is one line naming the host (and the service when known)
    and what to do about it. Messages never contain a password (see scrub()).
    """

    def __init__(self, message: str, host: t.Optional[str] = None, service: t.Optional[str] = None,
                 kind: str = ERROR, result: t.Optional[dict] = None) -> None:
        super().__init__(message)
        self.message = message
        self.host = host
        self.service = service
        self.kind = kind
        # What was done before the failure (services, actions), so the task result can show it.
        self.result = result or {}

    @property
    def message(self) -> str:
        return self.args[0]

    @message.setter
    def message(self, value: str) -> None:
        # args mirror the message so that repr() and pickling never show an older (unscrubbed) text.
        self.args = (' '.join(str(value).split()),)

    @property
    def unreachable(self) -> bool:
        """True when the host could not be talked to at all (Ansible's "unreachable")."""
        return self.kind in (UNREACHABLE, TIMEOUT)

    def __str__(self) -> str:
        parts = []
        if self.host:
            parts.append(str(self.host))
        if self.service:
            parts.append("service '%s'" % self.service)
        parts.append(self.message)
        return ': '.join(parts)


def secret_spellings(secret: t.Any, username: t.Any = None) -> list:
    """Every form of ``secret`` that could show up in text, longest first.

    The secret itself, repr-escaped, URL-quoted, and base64 as it travels in a Basic
    ``Authorization`` header (alone, and as ``user:password``).
    """
    if not secret:
        return []
    secret = str(secret)
    spellings = {secret, repr(secret)[1:-1], url_quote(secret, safe=''), url_quote(secret)}
    for raw in (secret, '%s:%s' % (username, secret) if username else None):
        if raw:
            for encoding in ('utf-8', 'latin-1'):
                try:
                    spellings.add(base64.b64encode(raw.encode(encoding)).decode('ascii'))
                except UnicodeEncodeError:
                    continue
    return sorted((s for s in spellings if s), key=len, reverse=True)


def scrub(text: t.Any, secret: t.Any, username: t.Any = None) -> str:
    """Replace every spelling of ``secret`` in ``text`` (see secret_spellings()) with a mask."""
    text = str(text)
    for spelling in secret_spellings(secret, username):
        text = text.replace(spelling, MASK)
    return text
