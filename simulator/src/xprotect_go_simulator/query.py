# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WMI's view of the machine: Win32_Service instances, the System log's Win32_NTLogEvent ones, and WQL over them."""

from __future__ import annotations

import typing as t

from xml.sax.saxutils import escape

from . import eventlog, soap, wql, wsman_faults
from .services import SERVICE_CLASS, SERVICE_URI, WIN32_SERVICE_PROPERTIES

if t.TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from .services import Service, ServiceControlManager

CIMV2_ALL_URI = soap.WMI_BASE + 'root/cimv2/*'
# WMI takes queries of at most 16384 characters: WBEM_LIMITS.WBEM_MAX_QUERY = 0x4000 in wbemcli.h
# (learn.microsoft.com/windows/win32/api/wbemcli/ne-wbemcli-wbem_limits). WinRM hands a query WMI refuses
# back as n:CannotProcessFilter with WMI's provider fault, the shape of the captured unknown-class fault.
WBEM_MAX_QUERY = 0x4000
DEPENDENT_SERVICE_CLASS = 'Win32_DependentService'
DEPENDENT_SERVICE_URI = soap.WMI_BASE + 'root/cimv2/' + DEPENDENT_SERVICE_CLASS
DEPENDENT_SERVICE_PROPERTIES = ('Antecedent', 'Dependent', 'TypeOfDependency')
SERVICE_MUST_BE_STARTED = 3  # TypeOfDependency: what a service's DependOnService registration means
_ROLES = {'antecedent': 'Antecedent', 'dependent': 'Dependent', None: None}


def instance(scm: ServiceControlManager, service: Service, now: float) -> str:
    """The p:Win32_Service instance of one service (Get, SELECT *)."""
    properties = scm.properties(service, now)
    return soap.instance_xml(SERVICE_URI, SERVICE_CLASS, [(name, properties[name]) for name in WIN32_SERVICE_PROPERTIES])


def all_instances(scm: ServiceControlManager, now: float) -> list[tuple[Service, str]]:
    """[(service, instance XML)] of every service, in WMI's order."""
    return [(service, instance(scm, service, now)) for service in scm.sorted_services()]


SCHEMA = {
    SERVICE_CLASS: WIN32_SERVICE_PROPERTIES,
    eventlog.CLASS: eventlog.PROPERTIES,
    DEPENDENT_SERVICE_CLASS: DEPENDENT_SERVICE_PROPERTIES,
}


def select(
    scm: ServiceControlManager, query_filter: ET.Element | None, now: float, event_log_readers: bool = True
) -> tuple[str, str, list[tuple[str, str]]]:
    """(class URI, key property, [(key value, item XML)]) a WQL w:Filter selects; raises the faults Windows answers a
    bad filter with. event_log_readers: whether the account may read the System log (Event Log Readers)."""
    if query_filter is None:
        raise wsman_faults.filter_fault('', 'syntax')
    if query_filter.get('Dialect') != soap.WQL_DIALECT:
        raise wsman_faults.dialect_unavailable()
    text = query_filter.text or ''
    if len(text) > WBEM_MAX_QUERY:
        raise wsman_faults.filter_fault(text, 'length')
    try:
        query = wql.parse(text, SCHEMA)
        if isinstance(query, wql.AssociatorsQuery):
            return SERVICE_URI, 'Name', [(service.name, instance(scm, service, now)) for service in associators(scm, query)]
    except wql.WqlError as error:
        raise wsman_faults.filter_fault(text, error.kind) from None
    if query.class_name == DEPENDENT_SERVICE_CLASS:
        return DEPENDENT_SERVICE_URI, 'Dependent', dependencies(scm, query)
    if query.class_name == eventlog.CLASS:
        if not event_log_readers and eventlog.denies(text):
            raise eventlog.access_denied(text)
        rows = [(str(row['RecordNumber']), row) for row in (scm.eventlog.rows() if event_log_readers else [])]
        return eventlog.URI, 'RecordNumber', _items(eventlog.URI, eventlog.CLASS, eventlog.PROPERTIES, query, rows)
    rows = [(service.name, scm.properties(service, now)) for service in scm.sorted_services()]
    return SERVICE_URI, 'Name', _items(SERVICE_URI, SERVICE_CLASS, WIN32_SERVICE_PROPERTIES, query, rows)


def _items(class_uri, class_name, properties, query, rows):
    """[(key value, item XML)] of the rows the query's condition selects: whole instances, or its projection."""
    rows = [(key, row) for key, row in rows if query.matches(row)]
    if query.properties is None:
        return [(key, soap.instance_xml(class_uri, class_name, [(name, row[name]) for name in properties])) for key, row in rows]
    # WMI writes a projection's properties in its usual (alphabetical) order, whatever order the query named.
    names = sorted(query.properties, key=str.lower)
    return [(key, soap.fragment_xml([(name, row[name]) for name in names])) for key, row in rows]


def associators(scm: ServiceControlManager, query: wql.AssociatorsQuery) -> list[Service]:
    """Services associated with the query's object through Win32_DependentService, by Name."""
    if query.assoc_class is not None and query.assoc_class.lower() != DEPENDENT_SERVICE_CLASS.lower():
        raise wql.WqlError('association class %s is not simulated' % query.assoc_class, kind='class')
    if query.result_class is not None and query.result_class.lower() != SERVICE_CLASS.lower():
        raise wql.WqlError('result class %s is not simulated' % query.result_class, kind='class')
    role = _ROLES.get(query.role.lower() if query.role else None, '')
    result_role = _ROLES.get(query.result_role.lower() if query.result_role else None, '')
    if '' in (role, result_role):
        raise wql.WqlError('Role and ResultRole of %s are Antecedent or Dependent' % DEPENDENT_SERVICE_CLASS)
    source = scm.find(query.value) if query.key in (None, 'Name') else None
    if source is None:
        return []
    related: dict[str, Service] = {}
    if role != 'Dependent' and result_role != 'Antecedent':
        # The source is the Antecedent: the results are the services that depend on it.
        related.update((other.name.lower(), other) for other in scm.services.values() if other.depends_on(source))
    if role != 'Antecedent' and result_role != 'Dependent':
        for name in source.config['depends_on']:
            dependency = scm.find(name)
            if dependency is not None:
                related[dependency.name.lower()] = dependency
    return [related[key] for key in sorted(related)]


def service_path(service: Service) -> str:
    """A service's relative object path, as WMI writes a reference to it: Win32_Service.Name="name"."""
    return '%s.Name="%s"' % (SERVICE_CLASS, service.name)


def _reference_xml(tag: str, service: Service) -> str:
    """A reference property as WinRM writes it: an endpoint reference (address, resource URI, key selector)."""
    return (
        '<%s><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI><w:SelectorSet>'
        '<w:Selector Name="Name">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></%s>'
        % (tag, soap.ANONYMOUS, SERVICE_URI, escape(service.name), tag)
    )


def dependencies(scm: ServiceControlManager, query: wql.SelectQuery) -> list[tuple[str, str]]:
    """[(dependent's path, item XML)] of the Win32_DependentService instances the query selects: one per service and
    each service it depends on. A reference compares as its relative path (Win32_Service.Name="name"), ignoring case."""
    items = []
    services = scm.sorted_services()
    for dependent, antecedent in ((d, a) for d in services for a in services if d.depends_on(a)):
        row = {'Antecedent': service_path(antecedent), 'Dependent': service_path(dependent), 'TypeOfDependency': SERVICE_MUST_BE_STARTED}
        if query.matches(row):
            items.append((service_path(dependent), _dependency_xml(query, antecedent, dependent)))
    return items


def _dependency_xml(query: wql.SelectQuery, antecedent: Service, dependent: Service) -> str:
    """One Win32_DependentService instance (SELECT *), or the properties a projection names (w:XmlFragment)."""
    whole = query.properties is None
    prefix = 'p:' if whole else ''
    names = DEPENDENT_SERVICE_PROPERTIES if whole else sorted(query.properties or (), key=str.lower)
    references = {'Antecedent': antecedent, 'Dependent': dependent}
    parts = ''.join(
        _reference_xml(prefix + name, references[name])
        if name in references
        else '<%s%s>%d</%s%s>' % (prefix, name, SERVICE_MUST_BE_STARTED, prefix, name)
        for name in names
    )
    if not whole:
        return '<w:XmlFragment>%s</w:XmlFragment>' % parts
    return '<p:%s xmlns:p="%s" xmlns:xsi="%s">%s</p:%s>' % (
        DEPENDENT_SERVICE_CLASS,
        DEPENDENT_SERVICE_URI,
        soap.NS_XSI,
        parts,
        DEPENDENT_SERVICE_CLASS,
    )
