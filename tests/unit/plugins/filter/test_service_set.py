# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.service_set and xprotect.go.missing_services on service_info results of each installation."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.module_utils._catalog import SERVICE_KEYS

from filter_helpers import load_filter

service_set = load_filter('service_set')
missing_services = load_filter('missing_services')

CORE = ['recording_server', 'image_server', 'image_import', 'log_check']


def services_of(results, host):
    return results['service_info'][host]['services']


def test_standard_is_every_catalog_service_in_start_order(results):
    for host in ('standard', 'custom', 'recording_server_stopped'):
        assert service_set(services_of(results, host), 'standard') == list(SERVICE_KEYS)


def test_custom_is_the_core_plus_the_optional_services_the_host_has(results):
    assert service_set(services_of(results, 'custom'), 'custom') == CORE
    assert service_set(services_of(results, 'standard'), 'custom') == list(SERVICE_KEYS)


def test_custom_keeps_an_optional_service_the_host_has_and_drops_one_it_lacks(results):
    services = services_of(results, 'standard')
    services['mobile_server'] = {'installed': False, 'optional': True, 'title': 'Mobile Server'}
    assert service_set(services, 'custom') == CORE + ['event_server']


def test_all_is_what_is_installed_running_or_not(results):
    assert service_set(services_of(results, 'custom'), 'all') == CORE
    # Image Import is stopped on this host: still installed, still in the set.
    services = services_of(results, 'other_service_and_image_import_stopped')
    assert services['image_import']['state'] == 'stopped'
    assert service_set(services, 'all') == list(SERVICE_KEYS)


def test_custom_never_misses_a_service_but_standard_does_on_a_custom_installation(results):
    assert missing_services(services_of(results, 'custom'), 'custom') == []
    assert missing_services(services_of(results, 'custom'), 'all') == []
    assert missing_services(services_of(results, 'custom'), 'standard') == ['event_server', 'mobile_server']
    assert missing_services(services_of(results, 'standard'), 'standard') == []


def test_a_core_service_missing_from_a_custom_set_is_reported(results):
    services = services_of(results, 'custom')
    services['log_check'] = {'installed': False, 'optional': False, 'title': 'Log Check'}
    assert service_set(services, 'custom') == CORE
    assert missing_services(services, 'custom') == ['log_check']


@pytest.mark.parametrize('name', ['service_set', 'missing_services'])
def test_an_unknown_set_is_refused_by_name(results, name):
    with pytest.raises(
        AnsibleFilterError, match=r"xprotect\.go\.%s: the service set must be one of standard, custom, all, got 'every'" % name
    ):
        load_filter(name)(services_of(results, 'standard'), 'every')


def test_the_service_modules_result_is_not_mistaken_for_service_infos(results):
    restart = results['service_restart']['standard']['services']
    with pytest.raises(AnsibleFilterError, match=r"service 'recording_server' has no 'installed': pass service_info's services"):
        service_set(restart, 'custom')


def test_a_result_without_services_is_refused(results):
    with pytest.raises(AnsibleFilterError, match=r"service_info's services must be a dictionary, got list"):
        service_set(['recording_server'], 'all')
