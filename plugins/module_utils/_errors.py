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
import re
import typing as t
from urllib.parse import quote as url_quote

# What went wrong, one word each. Ansible calls a host "unreachable" for UNREACHABLE and TIMEOUT.
UNREACHABLE = 'unreachable'  # no connection, or it was lost before an answer came
AUTH = 'auth'  # the listener refused the credentials
TLS = 'tls'  # the TLS handshake failed
TIMEOUT = 'timeout'  # no complete answer in time
ACCESS_DENIED = 'access_denied'  # authenticated, but not allowed
NOT_FOUND = 'not_found'  # no such service, class or instance
FAULT = 'fault'  # any other WS-Management fault
PROTOCOL = 'protocol'  # a reply that is not what a WinRM listener sends
INVALID = 'invalid'  # bad input or settings: refused before anything is sent
SERVICE = 'service'  # Windows refused or failed a service control
ERROR = 'error'  # none of the above (pywinrm missing, ...)

KINDS = (UNREACHABLE, AUTH, TLS, TIMEOUT, ACCESS_DENIED, NOT_FOUND, FAULT, PROTOCOL, INVALID, SERVICE, ERROR)

MASK = '********'

# Server text that reaches a message is cut to this many characters (after scrubbing: a secret cut
# in half would no longer be recognised).
MAX_SERVER_TEXT = 300

# An HTTP Authorization value: a scheme, then a token that looks like base64 (Basic base64(user:password),
# Negotiate/NTLM/Kerberos/CredSSP tokens). Masked wherever it shows up, whatever secret it carries:
# a server may echo the header of a request made with other credentials.
_AUTH_SCHEMES = r'(?:Basic|Negotiate|NTLM|Kerberos|CredSSP|Bearer|Digest)'
_AUTH_TOKEN = re.compile(r'\b(%s)(\s+)([A-Za-z0-9+/_.~-]{6,}={0,2})' % _AUTH_SCHEMES, re.IGNORECASE)
_AUTH_HEADER = re.compile(r'(authorization[\'"]?\s*[:=]\s*[\'"]?)((?:[A-Za-z]+\s+)?[^\s\'",;}\]]+)', re.IGNORECASE)


class XProtectError(Exception):
    """The collection's one exception type.

    ``kind`` is one of KINDS; ``str()`` is one line naming the host (and the service when known)
    and what to do about it. Messages never contain a password (see scrub()).
    """

    def __init__(
        self,
        message: str,
        host: t.Optional[str] = None,
        service: t.Optional[str] = None,
        kind: str = ERROR,
        result: t.Optional[dict] = None,
    ) -> None:
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
            # cp1252: how the transport sends non-ASCII Basic credentials (see _transport.basic_credentials).
            for encoding in ('utf-8', 'latin-1', 'cp1252'):
                try:
                    spellings.add(base64.b64encode(raw.encode(encoding)).decode('ascii'))
                except UnicodeEncodeError:
                    continue
    return sorted((s for s in spellings if s), key=len, reverse=True)


def _looks_like_a_token(token: str) -> bool:
    # Words ("Basic authentication", "NTLM challenge") stay; base64 tokens have digits or + / =,
    # or mixed case in a length divisible by 4.
    if len(token) < 8:
        return False
    if re.search(r'[0-9+/=]', token):
        return True
    return len(token) % 4 == 0 and token.lower() != token and token.upper() != token


def _mask_token(match: 're.Match[str]') -> str:
    return match.group(1) + match.group(2) + MASK if _looks_like_a_token(match.group(3)) else match.group(0)


def scrub(text: t.Any, secret: t.Any, username: t.Any = None) -> str:
    """Replace every spelling of ``secret`` in ``text`` (see secret_spellings()) with a mask.

    Authorization header values (``Authorization: ...``, ``Basic <base64>``, ``Negotiate <token>``, ...)
    are masked too, even when they carry no secret we know.
    """
    text = str(text)
    for spelling in secret_spellings(secret, username):
        text = text.replace(spelling, MASK)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    return _AUTH_TOKEN.sub(_mask_token, text)


def scrub_all(text: t.Any, secrets: t.Iterable[t.Any] = (), username: t.Any = None) -> str:
    """scrub() for several secrets at once (the connection's password and, say, a service account's password)."""
    text = str(text)
    for secret in secrets:
        text = scrub(text, secret, username)
    return text


def server_text(text: t.Any, secret: t.Any = None, username: t.Any = None, limit: int = MAX_SERVER_TEXT) -> str:
    """Text from a server (or a library quoting one), fit for a message: one line, scrubbed, then cut to ``limit``."""
    text = scrub(' '.join(str(text).split()), secret, username)
    return text if len(text) <= limit else text[: limit - 3] + '...'
