# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import importlib
import re
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st

from ansible_collections.xprotect.go.plugins.module_utils import _connection as connection
from ansible_collections.xprotect.go.plugins.module_utils import _connection_options as options
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

NO_TASK = {option.name: None for option in options.CONNECTION_OPTIONS}


def task(**values):
    return dict(NO_TASK, **values)


def refused(task_options, host_settings=None, environ=None):
    """The message of the XProtectError (kind invalid) that resolve_connection raises."""
    with pytest.raises(XProtectError) as error:
        connection.resolve_connection(task_options, host_settings, environ)
    assert error.value.kind == 'invalid'
    assert '\n' not in str(error.value)
    return str(error.value)


HOST = {'host': 'nvr01', 'port': 5985, 'username': 'inventory-user', 'password': 'inventory-pass'}
ENV = {
    'XPROTECT_GO_HOST': 'env-host',
    'XPROTECT_GO_USERNAME': 'env-user',
    'XPROTECT_GO_PASSWORD': 'env-pass',
    'XPROTECT_GO_PORT': '15986',
    'XPROTECT_GO_VALIDATE_CERTS': 'false',
}


@pytest.mark.parametrize(
    'source, expected_host, expected_user',
    [
        ('task', 'task-host', 'task-user'),
        ('host', 'nvr01', 'inventory-user'),
        ('env', 'env-host', 'env-user'),
    ],
)
def test_precedence_task_host_env(source, expected_host, expected_user):
    task_options = task(host='task-host', username='task-user') if source == 'task' else task()
    host = HOST if source in ('task', 'host') else {}
    settings = connection.resolve_connection(task_options, host, ENV)
    assert (settings.host, settings.username) == (expected_host, expected_user)


def test_precedence_is_per_option():
    settings = connection.resolve_connection(task(username='task-user'), {'host': 'nvr01'}, ENV)
    assert settings.host == 'nvr01'
    assert settings.username == 'task-user'
    assert settings.password == 'env-pass'
    assert settings.port == 15986
    assert settings.validate_certs is False
    assert (settings.source('host'), settings.source('username'), settings.source('port'), settings.source('path')) == (
        'the inventory',
        'the task option username',
        'environment variable XPROTECT_GO_PORT',
        'the default',
    )


def test_defaults():
    settings = connection.resolve_connection(task(host='h', username='u'))
    assert (settings.port, settings.scheme, settings.path, settings.transport) == (5986, 'https', '/wsman', 'ntlm')
    assert settings.validate_certs is True
    assert (settings.connection_timeout, settings.operation_timeout, settings.message_encryption) == (30, 20, 'auto')
    assert settings.endpoint == 'https://h:5986/wsman'
    assert settings.connection is None


def test_port_and_scheme_follow_each_other():
    assert connection.resolve_connection(task(host='h', username='u', port=5985)).scheme == 'http'
    assert connection.resolve_connection(task(host='h', username='u', scheme='http')).port == 5985
    assert connection.resolve_connection(task(host='::1', username='u', scheme='http')).endpoint == 'http://[::1]:5985/wsman'


@pytest.mark.parametrize(
    'values, fragment',
    [
        ({}, 'no host'),
        ({'host': 'h'}, 'no user name'),
        ({'host': 'h', 'username': 'u', 'port': 70000}, 'port must be between 1 and 65535, got 70000 (from the task option port)'),
        ({'host': 'h', 'username': 'u', 'connection_timeout': 10, 'operation_timeout': 20}, 'connection_timeout (10) must be greater'),
        ({'host': 'h', 'transport': 'certificate', 'scheme': 'https'}, 'client_cert and client_key'),
        ({'host': 'h', 'transport': 'certificate', 'scheme': 'http', 'client_cert': 'c', 'client_key': 'k'}, 'needs scheme https'),
        ({'host': 'h', 'username': 'u', 'operation_timeout': 0}, 'operation_timeout must be between 1 and 3600 seconds, got 0'),
    ],
)
def test_refuses_settings_that_cannot_work(values, fragment):
    assert fragment in refused(task(**values))


def test_bad_environment_value_names_the_variable():
    assert 'XPROTECT_GO_PORT' in refused(task(host='h', username='u'), {}, {'XPROTECT_GO_PORT': 'abc'})


def test_winrm_inventory_variables():
    variables = {
        'ansible_connection': 'winrm',
        'ansible_host': '10.0.0.5',
        'ansible_port': 5986,
        'ansible_user': 'EXAMPLE\\ops',
        'ansible_password': 'secret',
        'ansible_winrm_transport': ['basic', 'ntlm'],
        'ansible_winrm_scheme': 'https',
        'ansible_winrm_server_cert_validation': 'ignore',
        'ansible_winrm_ca_trust_path': '/ca.pem',
        'ansible_winrm_read_timeout_sec': 40,
        'ansible_winrm_operation_timeout_sec': 30,
        'ansible_winrm_message_encryption': 'never',
        'ansible_winrm_cert_pem': '/c.pem',
        'ansible_winrm_cert_key_pem': '/k.pem',
    }
    settings = options.host_settings_from_vars(variables)
    assert settings == {
        'host': '10.0.0.5',
        'port': 5986,
        'scheme': 'https',
        'username': 'EXAMPLE\\ops',
        'password': 'secret',
        'transport': 'basic',
        'validate_certs': False,
        'ca_trust_path': '/ca.pem',
        'client_cert': '/c.pem',
        'client_key': '/k.pem',
        'message_encryption': 'never',
        'connection_timeout': 40,
        'operation_timeout': 30,
    }
    assert settings.connection == 'winrm'
    assert settings.sources['connection_timeout'] == 'inventory variable ansible_winrm_read_timeout_sec'


def test_the_first_variable_listed_wins():
    variables = {
        'ansible_connection': 'ansible.builtin.winrm',
        'ansible_host': 'generic',
        'ansible_winrm_host': 'specific',
        'ansible_winrm_connection_timeout': 50,
        'ansible_winrm_read_timeout_sec': 60,
    }
    assert options.host_settings_from_vars(variables) == {'host': 'specific', 'connection_timeout': 60}


def test_psrp_inventory_variables():
    variables = {
        'ansible_connection': 'psrp',
        'ansible_host': 'nvr02',
        'ansible_user': 'ops',
        'ansible_password': 'p',
        'ansible_psrp_auth': 'negotiate',
        'ansible_psrp_protocol': 'http',
        'ansible_psrp_cert_validation': 'ignore',
        'ansible_psrp_path': 'wsman',
        'ansible_psrp_cert_trust_path': '/ca.pem',
    }
    settings = connection.resolve_connection(NO_TASK, options.host_settings_from_vars(variables))
    assert (settings.host, settings.transport, settings.scheme, settings.port, settings.validate_certs) == (
        'nvr02',
        'ntlm',
        'http',
        5985,
        False,
    )
    assert (settings.path, settings.ca_trust_path, settings.connection) == ('/wsman', '/ca.pem', 'psrp')


def test_other_connections_have_no_inventory_settings():
    assert options.host_settings_from_vars({'ansible_connection': 'ssh', 'ansible_host': 'h', 'ansible_user': 'u'}) == {}


def plugin(values):
    """A connection plugin's get_option: KeyError for options it does not have, as Ansible's do."""

    def get_option(name):
        return values[name]

    return get_option


def test_winrm_plugin_options_and_extras():
    get_option = plugin(
        {
            'remote_addr': 'nvr03',
            'port': 5986,
            'remote_user': 'ops',
            'remote_password': 'pw',
            'transport': ['ntlm'],
            'scheme': None,
            'path': '/wsman',
            'connection_timeout': 45,
            '_extras': {
                'ansible_winrm_read_timeout_sec': 55,
                'ansible_winrm_server_cert_validation': 'ignore',
                'ansible_winrm_kerberos_delegation': True,
            },
        }
    )
    settings = options.host_settings_from_plugin(get_option, 'winrm', {'ansible_host': 'nvr03'})
    assert settings == {
        'host': 'nvr03',
        'port': 5986,
        'username': 'ops',
        'password': 'pw',
        'transport': 'ntlm',
        'path': '/wsman',
        'connection_timeout': 55,
        'validate_certs': False,
    }
    assert settings.connection == 'winrm'
    assert settings.sources['host'] == 'inventory variable ansible_host'
    assert settings.sources['username'] == "the winrm connection's remote_user"
    assert settings.sources['connection_timeout'] == 'inventory variable ansible_winrm_read_timeout_sec'


def test_psrp_plugin_options():
    get_option = plugin(
        {
            'remote_addr': 'nvr04',
            'remote_user': 'ops',
            'remote_password': 'pw',
            'protocol': 'https',
            'port': None,
            'path': 'wsman',
            'auth': 'negotiate',
            'cert_validation': 'validate',
            'ca_cert': '/ca.pem',
            'certificate_pem': None,
            'certificate_key_pem': None,
            'message_encryption': 'auto',
            'read_timeout': 30,
            'operation_timeout': 20,
        }
    )
    settings = options.host_settings_from_plugin(get_option, 'psrp')
    assert settings == {
        'host': 'nvr04',
        'username': 'ops',
        'password': 'pw',
        'scheme': 'https',
        'path': 'wsman',
        'transport': 'ntlm',
        'validate_certs': True,
        'ca_trust_path': '/ca.pem',
        'message_encryption': 'auto',
        'connection_timeout': 30,
        'operation_timeout': 20,
    }
    assert settings.sources['host'] == 'the inventory host name'
    resolved = connection.resolve_connection(NO_TASK, settings)
    assert resolved.endpoint == 'https://nvr04:5986/wsman'


def test_setting_names_follow_the_hosts_connection():
    def resolved(connection_name):
        host = options.HostSettings({'host': 'h', 'username': 'u'}, connection=connection_name)
        return connection.resolve_connection(NO_TASK, host)

    psrp, winrm, plain = resolved('psrp'), resolved('winrm'), resolved(None)
    assert (psrp.connection, winrm.connection, plain.connection) == ('psrp', 'winrm', None)
    assert psrp.setting_name('connection_timeout') == 'connection_timeout (ansible_psrp_read_timeout)'
    assert winrm.setting_name('connection_timeout') == 'connection_timeout (ansible_winrm_read_timeout_sec)'
    assert psrp.setting_name('validate_certs') == 'validate_certs (ansible_psrp_cert_validation)'
    assert psrp.setting_name('ca_trust_path') == 'ca_trust_path (ansible_psrp_ca_cert)'
    assert psrp.setting_name('scheme') == 'scheme (ansible_psrp_protocol)'
    assert winrm.setting_name('ca_trust_path') == 'ca_trust_path (ansible_winrm_ca_trust_path)'
    assert (winrm.setting_name('host'), psrp.setting_name('port'), psrp.setting_name('password')) == (
        'host (ansible_host)',
        'port (ansible_port)',
        'password (ansible_password)',
    )
    assert plain.setting_name('connection_timeout') == 'connection_timeout'
    assert (psrp.inventory_variable('scheme'), winrm.inventory_variable('scheme'), plain.inventory_variable('scheme')) == (
        'ansible_psrp_protocol',
        'ansible_winrm_scheme',
        None,
    )


def test_repr_hides_password():
    settings = connection.resolve_connection(task(host='h', username='u', password='Sup3r-Secret'))
    assert 'Sup3r-Secret' not in repr(settings)


# ---------------------------------------------------------------------------------------------
# The endpoint: credentials go to the configured host, port and path and nowhere else.


@pytest.mark.parametrize(
    'host, expected_host, endpoint',
    [
        ('xpgo-01.example.com', 'xpgo-01.example.com', 'https://xpgo-01.example.com:5986/wsman'),
        ('xpgo-01.example.com.', 'xpgo-01.example.com.', 'https://xpgo-01.example.com.:5986/wsman'),
        ('NVR_01', 'NVR_01', 'https://NVR_01:5986/wsman'),
        ('localhost', 'localhost', 'https://localhost:5986/wsman'),
        ('xn--bcher-kva.example', 'xn--bcher-kva.example', 'https://xn--bcher-kva.example:5986/wsman'),
        ('127.0.0.9', '127.0.0.9', 'https://127.0.0.9:5986/wsman'),
        ('::1', '::1', 'https://[::1]:5986/wsman'),
        ('[::1]', '::1', 'https://[::1]:5986/wsman'),
        ('[2001:DB8:0:0::1]', '2001:db8::1', 'https://[2001:db8::1]:5986/wsman'),
        ('::ffff:10.0.0.1', '::ffff:a00:1', 'https://[::ffff:a00:1]:5986/wsman'),
        ('a' * 63 + '.example', 'a' * 63 + '.example', None),
        ('.'.join(['a' * 62] * 4), '.'.join(['a' * 62] * 4), None),  # 251 characters
    ],
)
def test_good_hosts(host, expected_host, endpoint):
    settings = connection.resolve_connection(task(host=host, username='u'))
    assert settings.host == expected_host
    assert settings.endpoint == (endpoint or 'https://%s:5986/wsman' % expected_host)


@pytest.mark.parametrize(
    'host, reason',
    [
        ('127.0.0.9/x?y=', "'/' is not allowed"),
        ('127.0.0.9:5985/x', "'/' is not allowed"),
        ('host@evil', "'@' is not allowed: no user information"),
        ('user:Hunter2@host', "'@' is not allowed"),
        ('a b', 'whitespace or control characters'),
        ('x\n', 'whitespace or control characters'),
        ('x\x00y', 'whitespace or control characters'),
        ('h?x', "'?' is not allowed"),
        ('h#x', "'#' is not allowed"),
        ('h\\x', "'\\' is not allowed"),
        ('h%2fx', "'%' is not allowed"),
        ('fe80::1%eth0', 'IPv6 zone ids'),
        ('[fe80::1%25eth0]', 'IPv6 zone ids'),
        ('nvr01:5985', 'a port goes in the port setting'),
        ('[::1]:5986', 'not after the brackets'),
        ('[nvr01]', 'brackets hold only an IPv6 address'),
        ('1:2:3', 'not a valid IPv6 address'),
        ('256.1.1.1', 'not a valid IPv4 address'),
        ('127.1', 'not a valid IPv4 address'),
        ('010.0.0.1', 'not a valid IPv4 address'),
        ('0x7f.0.0.1', 'not ending in a number'),
        ('-nvr', 'not starting or ending with a hyphen'),
        ('nvr-.example', 'not starting or ending with a hyphen'),
        ('a..b', 'labels of 1 to 63'),
        ('a' * 64 + '.example', 'labels of 1 to 63'),
        ('.'.join(['a' * 60] * 5), 'at most 253 characters'),
        ('x' * 300, 'at most 253 characters'),
        ('bücher.example', 'xn-- form'),
        ('nvr!01', 'labels of 1 to 63'),
    ],
)
def test_bad_hosts_are_refused(host, reason):
    message = refused(task(host=host, username='u', password='Hunter2'))
    assert reason in message
    assert 'is not a DNS name, IPv4 or IPv6 address' in message
    assert 'from the task option host' in message
    assert 'Hunter2' not in message and 'user:' not in message
    assert len(message) < 600


@pytest.mark.parametrize(
    'host_settings, environ, source',
    [
        (
            options.host_settings_from_vars({'ansible_connection': 'winrm', 'ansible_host': '127.0.0.9/x?y='}),
            {},
            'from inventory variable ansible_host',
        ),
        (
            options.host_settings_from_vars({'ansible_connection': 'winrm', 'ansible_winrm_host': 'a b'}),
            {},
            'from inventory variable ansible_winrm_host',
        ),
        (
            options.host_settings_from_vars({'ansible_connection': 'psrp', 'ansible_psrp_host': 'x@y'}),
            {},
            'from inventory variable ansible_psrp_host',
        ),
        ({}, {'XPROTECT_GO_HOST': 'h/x'}, 'from environment variable XPROTECT_GO_HOST'),
    ],
)
def test_a_bad_host_names_where_it_came_from(host_settings, environ, source):
    assert source in refused(task(username='u'), host_settings, environ)


@pytest.mark.parametrize('port, source', [(0, None), (65536, None), (-1, None), ('0', 'XPROTECT_GO_PORT')])
def test_ports_outside_the_range_are_refused(port, source):
    if source:
        message = refused(task(host='h', username='u'), {}, {source: port})
        assert 'from environment variable XPROTECT_GO_PORT' in message
    else:
        message = refused(task(host='h', username='u', port=port))
        assert 'port must be between 1 and 65535, got %s (from the task option port)' % port in message


def test_port_from_the_inventory_is_named():
    host = options.host_settings_from_vars({'ansible_connection': 'winrm', 'ansible_host': 'h', 'ansible_port': 65536})
    assert 'got 65536 (from inventory variable ansible_port)' in refused(task(username='u'), host)


@pytest.mark.parametrize(
    'path, expected',
    [
        ('/wsman', '/wsman'),
        ('wsman', '/wsman'),
        ('/wsman/', '/wsman/'),
        ('/custom/ws-man_2.0~x', '/custom/ws-man_2.0~x'),
        ('/', '/'),
    ],
)
def test_good_paths(path, expected):
    settings = connection.resolve_connection(task(host='h', username='u', path=path))
    assert settings.path == expected
    assert settings.endpoint == 'https://h:5986' + expected


@pytest.mark.parametrize(
    'path',
    [
        '/wsman?x',
        '/wsman#frag',
        '/../x',
        '/wsman/..',
        '/./wsman',
        '//evil/x',
        '/a//b',
        '/ws%2fman',
        '/ws man',
        '/wsman\n',
        '/user@evil',
        '/ws:man',
        'http://evil/wsman',
        '/ws;man',
    ],
)
def test_bad_paths_are_refused(path):
    message = refused(task(host='h', username='u', path=path))
    assert 'is not a plain absolute path' in message and 'from the task option path' in message


def test_bad_path_from_the_inventory_is_named():
    host = options.host_settings_from_vars({'ansible_connection': 'winrm', 'ansible_host': 'h', 'ansible_winrm_path': '/wsman?x=1'})
    assert 'from inventory variable ansible_winrm_path' in refused(task(username='u'), host)


def test_connection_settings_check_the_endpoint_themselves():
    with pytest.raises(XProtectError) as error:
        connection.ConnectionSettings('127.0.0.9/x?y=')
    assert 'from the host option' in str(error.value)
    with pytest.raises(XProtectError):
        connection.ConnectionSettings('h', port=0)
    with pytest.raises(XProtectError):
        connection.ConnectionSettings('h', scheme='ftp')
    assert connection.ConnectionSettings('[::1]', port=5985, scheme='http', path='wsman').endpoint == 'http://[::1]:5985/wsman'


_HOST_TEXT = st.one_of(
    st.text(alphabet=st.characters(codec='ascii'), max_size=30),
    st.from_regex(r'[a-z0-9_-]{1,8}(\.[a-z0-9_-]{1,8}){0,3}\.?', fullmatch=True),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda address: '[%s]' % address),
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(host=_HOST_TEXT, port=st.integers(min_value=-5, max_value=70000), path=st.text(alphabet='/aw.%?#@:~-_ ', max_size=12))
def test_the_endpoint_is_exactly_scheme_host_port_path(host, port, path):
    """Whatever is accepted, a URL parser finds exactly our host, port and path in the endpoint, and nothing else."""
    try:
        settings = connection.resolve_connection(task(host=host, port=port, path=path, username='u'))
    except XProtectError as error:
        assert error.kind == 'invalid'
        return
    parts = urlsplit(settings.endpoint)
    # Without a scheme, port 5985 means http and any other port https, as the winrm connection plugin decides.
    assert (parts.scheme, parts.port, parts.path) == ('http' if port == 5985 else 'https', port, settings.path)
    assert parts.hostname == settings.host.lower()
    assert (parts.username, parts.password, parts.query, parts.fragment) == (None, None, '', '')


# ---------------------------------------------------------------------------------------------
# The table, the spec and the doc fragment agree.


def test_the_spec_comes_from_the_table_without_defaults():
    spec = options.CONNECTION_SPEC
    assert list(spec) == [option.name for option in options.CONNECTION_OPTIONS]
    assert all('default' not in entry and 'fallback' not in entry for entry in spec.values())
    assert spec['password']['no_log'] is True and spec['username']['aliases'] == ['user']
    assert options.DEFAULTS == {
        'path': '/wsman',
        'transport': 'ntlm',
        'validate_certs': True,
        'message_encryption': 'auto',
        'connection_timeout': 30,
        'operation_timeout': 20,
    }


def test_every_option_has_a_variable_of_each_connection():
    for option in options.CONNECTION_OPTIONS:
        assert option.winrm_vars and option.psrp_vars, option.name
        assert all(name.startswith('ansible_') for name in option.winrm_vars + option.psrp_vars), option.name


def _line(description, prefix, option):
    lines = [line for line in description if line.startswith(prefix)]
    assert len(lines) <= 1, '%s: more than one line starting %r' % (option, prefix)
    return lines[0] if lines else None


def _default_text(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(scope='module')
def documented():
    fragment = importlib.import_module('ansible_collections.xprotect.go.plugins.doc_fragments._connection')
    return yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)['options']


def test_every_option_is_documented(documented):
    assert list(documented) == [option.name for option in options.CONNECTION_OPTIONS]


@pytest.mark.parametrize('option', options.CONNECTION_OPTIONS, ids=lambda option: option.name)
def test_doc_fragment_agrees_with_the_table(documented, option):
    doc = documented[option.name]
    spec = option.spec()
    assert doc['type'] == spec['type']
    assert doc.get('choices') == spec.get('choices')
    assert doc.get('aliases') == spec.get('aliases')
    assert doc.get('no_log') is None and 'default' not in doc  # defaults are applied by resolve_connection, and documented in prose
    description = doc['description']
    assert _line(description, 'Environment variable ', option.name) == 'Environment variable E(%s).' % option.env

    inventory = re.fullmatch(r'Inventory (.+?); on psrp hosts (.+)\.', _line(description, 'Inventory ', option.name) or '')
    assert inventory, '%s: no line "Inventory C(...); on psrp hosts C(...)."' % option.name
    assert tuple(re.findall(r'C\((\w+)\)', inventory.group(1))) == option.winrm_vars
    assert tuple(re.findall(r'C\((\w+)\)', inventory.group(2))) == option.psrp_vars

    default = _line(description, 'Defaults to V(', option.name)
    if option.default is None:
        assert default is None or not re.fullmatch(r'Defaults to V\([^)]*\)\.', default), '%s has no default in the table' % option.name
    else:
        assert default == 'Defaults to V(%s).' % _default_text(option.default)

    expected_range = None
    if option.minimum is not None:
        expected_range = 'Between V(%s) and V(%s)%s.' % (option.minimum, option.maximum, ' ' + option.unit if option.unit else '')
    assert _line(description, 'Between ', option.name) == expected_range


def test_port_and_scheme_defaults_are_documented(documented):
    assert (
        'Defaults to V(%d) when O(scheme=http), else V(%d).' % (options.HTTP_PORT, options.HTTPS_PORT) in documented['port']['description']
    )
    assert 'Defaults to V(http) when O(port=%d), else V(https).' % options.HTTP_PORT in documented['scheme']['description']


def test_service_names_fragment_matches_its_spec():
    from ansible_collections.xprotect.go.plugins.module_utils._specs import SERVICE_NAMES_SPEC

    fragment = importlib.import_module('ansible_collections.xprotect.go.plugins.doc_fragments._service_names')
    documented = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)['options']
    assert {option: doc['type'] for option, doc in documented.items()} == {o: s['type'] for o, s in SERVICE_NAMES_SPEC.items()}
