# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The WS-Management faults a simulated host answers with, shaped like Windows' own.

Shapes come from the captures (CannotProcessFilter, DestinationUnreachable, InvalidSelectors);
the HRESULTs and texts of the others from wsmerror.h.
"""

from __future__ import annotations

from . import soap

NOT_FOUND = (
    'The WS-Management service cannot process the request. The service cannot find the resource identified by the '
    'resource URI and selectors. '
)
FILTER_REASON = (
    'The data source could not process the filter. The filter might be missing or it might be invalid. '
    'Change the filter and try the request again.  '
)
FILTER_MESSAGES = {
    'class': 'The specified class does not exist in the given namespace. ',
    'property': 'The WQL query is invalid: it names a property the class does not have. ',
    'syntax': 'The WQL query is invalid. ',
    'length': 'The WQL query is longer than the 16384 characters WMI accepts. ',
}
INVALID_CONTEXT = (
    'The WS-Enumeration context in the enumeration is not valid. Enumeration may have been completed or '
    'canceled. You cannot use this enumeration context anymore. Start a new enumeration. '
)


def resource_not_found() -> soap.Fault:
    return soap.Fault('a:DestinationUnreachable', 2150858752, NOT_FOUND, action=soap.FAULT_ACTION_ADDRESSING, detail='InvalidResourceURI')


def instance_not_found(class_name: str, key: str, value: str) -> soap.Fault:
    """Get or Invoke on an instance WMI does not have (the capture's GetObject shape)."""
    path = '%s.%s="%s"' % (class_name, key, value.replace('\\', '\\\\').replace('"', '\\"'))
    return soap.Fault(
        'a:DestinationUnreachable',
        2150858752,
        NOT_FOUND,
        action=soap.FAULT_ACTION_ADDRESSING,
        detail='InvalidResourceURI',
        provider=soap.WMI_PROVIDER,
        extended_status={'Operation': 'GetObject', 'ParameterInfo': path, 'ProviderName': 'CIMWin32'},
    )


def action_not_supported() -> soap.Fault:
    return soap.Fault(
        'a:ActionNotSupported',
        2150858771,
        'The WS-Management service does not support the action specified in the request. ',
        action=soap.FAULT_ACTION_ADDRESSING,
    )


def missing_element(name: str) -> soap.Fault:
    return soap.Fault(
        'w:SchemaValidationError',
        2150858817,
        "WinRM cannot process the request because the request is missing the element titled '%s'. " % name,
    )


def selector_fault(detail: str, hresult: int, reason: str) -> soap.Fault:
    return soap.Fault('w:InvalidSelectors', hresult, reason, detail=detail, provider=soap.WMI_PROVIDER)


def filter_fault(query: str, kind: str) -> soap.Fault:
    return soap.Fault(
        'n:CannotProcessFilter',
        2150858778,
        FILTER_REASON,
        action=soap.FAULT_ACTION_ENUMERATION,
        provider=soap.WMI_PROVIDER,
        provider_message=FILTER_MESSAGES[kind],
        extended_status={'Operation': 'ExecQuery', 'ParameterInfo': query, 'ProviderName': 'WinMgmt'},
    )


def dialect_unavailable() -> soap.Fault:
    return soap.Fault(
        'n:FilterDialectRequestedUnavailable',
        2150858777,
        'The filter dialect (the type associated with the filter) was not supported for this resource. '
        'Change the filter dialect or remove it from the request and try the request again. ',
        action=soap.FAULT_ACTION_ENUMERATION,
    )


def invalid_context() -> soap.Fault:
    """A used, released or expired context: wsmerror.h ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT (0x8033801B),
    "wsen, code=Receiver, subcode=WS-Enumeration InvalidEnumerationContext"."""
    return soap.Fault('n:InvalidEnumerationContext', 2150858779, INVALID_CONTEXT, action=soap.FAULT_ACTION_ENUMERATION, code='s:Receiver')


def unsupported_feature(detail: str) -> soap.Fault:
    """wsman:UnsupportedFeature (ERROR_WSMAN_UNSUPPORTED_FEATURE, 0x80338042 in wsmerror.h) with a FaultDetail."""
    return soap.Fault(
        'w:UnsupportedFeature',
        2150858818,
        'The WS-Management service does not support the specified feature. Remove the unsupported feature from the request and retry. ',
        detail=detail,
    )
