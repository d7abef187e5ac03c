# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.xprotect.go.plugins.module_utils import _connection as connection
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

NO_TASK = {option: None for option in connection.CONNECTION_SPEC}


def task(**options):
    return dict(NO_TASK, **options)


HOST = {'host': 'nvr01', 'port': 5985, 'username': 'inventory-user', 'password': 'inventory-pass'}
ENV = {'XPROTECT_GO_HOST': 'env-host', 'XPROTECT_GO_USERNAME': 'env-user', 'XPROTECT_GO_PASSWORD': 'env-pass',
       'XPROTECT_GO_PORT': '15986', 'XPROTECT_GO_VALIDATE_CERTS': 'false'}


@pytest.mark.parametrize('source, expected_host, expected_user', [
    ('task', 'task-host', 'task-user'),
    ('host', 'nvr01', 'inventory-user'),
    ('env', 'env-host', 'env-user'),
])
def test_precedence_task_host_env(source, expected_host, expected_user):
    options = task(host='task-host', username='task-user') if source == 'task' else task()
    host = HOST if source in ('task', 'host') else {}
    settings = connection.resolve_connection(options, host, ENV)
    assert (settings.host, settings.username) == (expected_host, expected_user)


def test_precedence_is_per_option():
    settings = connection.resolve_connection(task(username='task-user'), {'host': 'nvr01'}, ENV)
    assert settings.host == 'nvr01'
    assert settings.username == 'task-user'
    assert settings.password == 'env-pass'
    assert settings.port == 15986
    assert settings.validate_certs is False


def test_defaults():
    settings = connection.resolve_connection(task(host='h', username='u'))
    assert (settings.port, settings.scheme, settings.path, settings.transport) == (5986, 'https', '/wsman', 'ntlm')
    assert settings.validate_certs is True
    assert (settings.connection_timeout, settings.operation_timeout, settings.message_encryption) == (30, 20, 'auto')
    assert settings.endpoint == 'https://h:5986/wsman'


def test_port_and_scheme_follow_each_other():
    assert connection.resolve_connection(task(host='h', username='u', port=5985)).scheme == 'http'
    assert connection.resolve_connection(task(host='h', username='u', scheme='http')).port == 5985
    assert connection.resolve_connection(task(host='::1', username='u', scheme='http')).endpoint == 'http://[::1]:5985/wsman'


@pytest.mark.parametrize('options, fragment', [
    ({}, 'no host'),
    ({'host': 'h'}, 'no user name'),
    ({'host': 'h', 'username': 'u', 'port': 70000}, 'port'),
    ({'host': 'h', 'username': 'u', 'connection_timeout': 10, 'operation_timeout': 20}, 'connection_timeout (10) must be greater'),
    ({'host': 'h', 'transport': 'certificate', 'scheme': 'https'}, 'client_cert and client_key'),
    ({'host': 'h', 'transport': 'certificate', 'scheme': 'http', 'client_cert': 'c', 'client_key': 'k'}, 'needs scheme https'),
    ({'host': 'h', 'username': 'u', 'operation_timeout': 0}, 'operation_timeout must be between'),
])
def test_refuses_settings_that_cannot_work(options, fragment):
    with pytest.raises(XProtectError) as error:
        connection.resolve_connection(task(**options))
    assert fragment in str(error.value)
    assert error.value.kind == 'invalid'


def test_bad_environment_value_names_the_variable():
    with pytest.raises(XProtectError) as error:
        connection.resolve_connection(task(host='h', username='u'), {}, {'XPROTECT_GO_PORT': 'abc'})
    assert 'XPROTECT_GO_PORT' in str(error.value)


def test_winrm_inventory_variables():
    variables = {
        'ansible_connection': 'winrm', 'ansible_host': '10.0.0.5', 'ansible_port': 5986, 'ansible_user': 'EXAMPLE\\ops',
        'ansible_password': 'secret', 'ansible_winrm_transport': ['basic', 'ntlm'], 'ansible_winrm_scheme': 'https',
        'ansible_winrm_server_cert_validation': 'ignore', 'ansible_winrm_ca_trust_path': '/ca.pem',
        'ansible_winrm_read_timeout_sec': 40, 'ansible_winrm_operation_timeout_sec': 30,
        'ansible_winrm_message_encryption': 'never', 'ansible_winrm_cert_pem': '/c.pem', 'ansible_winrm_cert_key_pem': '/k.pem',
    }
    settings = connection.host_settings_from_vars(variables)
    assert settings == {'host': '10.0.0.5', 'port': 5986, 'scheme': 'https', 'username': 'EXAMPLE\\ops', 'password': 'secret',
                        'transport': 'basic', 'validate_certs': False, 'ca_trust_path': '/ca.pem', 'client_cert': '/c.pem',
                        'client_key': '/k.pem', 'message_encryption': 'never', 'connection_timeout': 40, 'operation_timeout': 30}


def test_psrp_inventory_variables():
    variables = {'ansible_connection': 'psrp', 'ansible_host': 'nvr02', 'ansible_user': 'ops', 'ansible_password': 'p',
                 'ansible_psrp_auth': 'negotiate', 'ansible_psrp_protocol': 'http', 'ansible_psrp_cert_validation': 'ignore'}
    settings = connection.resolve_connection(NO_TASK, connection.host_settings_from_vars(variables))
    assert (settings.host, settings.transport, settings.scheme, settings.port, settings.validate_certs) == ('nvr02', 'ntlm', 'http', 5985, False)


def test_repr_hides_password():
    settings = connection.resolve_connection(task(host='h', username='u', password='Sup3r-Secret'))
    assert 'Sup3r-Secret' not in repr(settings)


def test_spec_and_doc_fragment_agree():
    fragment = importlib.import_module('ansible_collections.xprotect.go.plugins.doc_fragments._connection')
    documented = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)['options']
    assert set(documented) == set(connection.CONNECTION_SPEC)
    for option, spec in connection.CONNECTION_SPEC.items():
        doc = documented[option]
        assert doc['type'] == spec['type'], option
        assert doc.get('choices') == spec.get('choices'), option
        assert doc.get('aliases') == spec.get('aliases'), option
        assert 'default' not in doc, option  # defaults are applied by resolve_connection, and documented in prose
        text = ' '.join(doc['description'])
        assert connection.env_var(option) in text, option
        if option in connection.DEFAULTS:
            default = connection.DEFAULTS[option]
            assert 'Defaults to V(%s)' % (str(default).lower() if isinstance(default, bool) else default) in text, option


def test_service_names_fragment_matches_its_spec():
    from ansible_collections.xprotect.go.plugins.module_utils._specs import SERVICE_NAMES_SPEC
    fragment = importlib.import_module('ansible_collections.xprotect.go.plugins.doc_fragments._service_names')
    documented = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)['options']
    assert {option: doc['type'] for option, doc in documented.items()} == {o: s['type'] for o, s in SERVICE_NAMES_SPEC.items()}
