# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documents the table CONNECTION_OPTIONS in plugins/module_utils/_connection_options.py. A unit test
# (tests/unit/plugins/module_utils/test_connection.py) holds every option here against it: type, choices,
# aliases, and these description lines, in exactly this form:
#   "Inventory C(<winrm variable>) or C(...); on psrp hosts C(<psrp variable>) or C(...)."  (the first set wins)
#   "Environment variable E(<variable>)."
#   "Defaults to V(<default>)."  (only options with a default)
#   "Between V(<minimum>) and V(<maximum>)[ seconds]."  (only options with a range)
# Private to the collection.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  host:
    description:
      - The Windows host's DNS name, IPv4 address or IPv6 address (with or without brackets), and nothing else,
        no user name, port, path or query; anything else is refused before anything is sent.
      - Names are labels of letters, digits and hyphens; underscores are accepted too, since some Windows host names
        have them. Internationalised names go in their C(xn--) form. IPv6 zone ids (V(fe80::1%eth0)) are refused.
      - Defaults to the inventory host's address when the task runs against a Windows inventory host.
      - Inventory C(ansible_winrm_host) or C(ansible_host); on psrp hosts C(ansible_psrp_host) or C(ansible_host).
      - Environment variable E(XPROTECT_GO_HOST).
    type: str
  port:
    description:
      - The WinRM listener's port.
      - Defaults to V(5985) when O(scheme=http), else V(5986).
      - Inventory C(ansible_winrm_port) or C(ansible_port); on psrp hosts C(ansible_psrp_port) or C(ansible_port).
      - Environment variable E(XPROTECT_GO_PORT).
      - Between V(1) and V(65535).
    type: int
  scheme:
    description:
      - V(http) or V(https).
      - Defaults to V(http) when O(port=5985), else V(https).
      - Inventory C(ansible_winrm_scheme); on psrp hosts C(ansible_psrp_protocol).
      - Environment variable E(XPROTECT_GO_SCHEME).
    type: str
    choices: [http, https]
  path:
    description:
      - The listener's URL path, a plain absolute path of letters, digits and C(- . _ ~) between slashes; no query,
        fragment, C(%)-escapes, C(//) or C(..). A path without its leading slash (the psrp connection's V(wsman)) gets one.
      - Inventory C(ansible_winrm_path); on psrp hosts C(ansible_psrp_path).
      - Environment variable E(XPROTECT_GO_PATH).
      - Defaults to V(/wsman).
    type: str
  username:
    description:
      - The account to log on with, as V(user), V(DOMAIN\\user) or V(user@domain.example).
      - The account need not be an administrator; see the README's least-privilege set-up.
      - Inventory C(ansible_winrm_user) or C(ansible_user); on psrp hosts C(ansible_psrp_user) or C(ansible_user).
      - Environment variable E(XPROTECT_GO_USERNAME).
    type: str
    aliases: [user]
  password:
    description:
      - The account's password. Never shown in results, warnings or errors.
      - Inventory C(ansible_winrm_password) or C(ansible_winrm_pass) or C(ansible_password); on psrp hosts
        C(ansible_winrm_password) or C(ansible_winrm_pass) or C(ansible_password).
      - Environment variable E(XPROTECT_GO_PASSWORD).
    type: str
  transport:
    description:
      - How to authenticate. From the inventory, V(negotiate) means V(ntlm), and of a list the first one counts.
      - V(ntlm) over http encrypts every message, which is the Windows default listener's set-up.
      - V(kerberos) needs C(pywinrm[kerberos]), V(credssp) needs C(pywinrm[credssp]).
      - V(basic) is plain text; use it only over https.
      - Inventory C(ansible_winrm_transport); on psrp hosts C(ansible_psrp_auth).
      - Environment variable E(XPROTECT_GO_TRANSPORT).
      - Defaults to V(ntlm).
    type: str
    choices: [ntlm, kerberos, credssp, certificate, basic]
  validate_certs:
    description:
      - Whether to validate the listener's TLS certificate over https. Keep it on outside of tests.
      - In the inventory V(ignore) turns it off.
      - Inventory C(ansible_winrm_server_cert_validation); on psrp hosts C(ansible_psrp_cert_validation).
      - Environment variable E(XPROTECT_GO_VALIDATE_CERTS).
      - Defaults to V(true).
    type: bool
  ca_trust_path:
    description:
      - A CA bundle (PEM) to validate the listener's certificate with, instead of the system's.
      - Inventory C(ansible_winrm_ca_trust_path); on psrp hosts C(ansible_psrp_ca_cert) or C(ansible_psrp_cert_trust_path).
      - Environment variable E(XPROTECT_GO_CA_TRUST_PATH).
    type: path
  client_cert:
    description:
      - Client certificate (PEM) for O(transport=certificate).
      - Inventory C(ansible_winrm_cert_pem); on psrp hosts C(ansible_psrp_certificate_pem).
      - Environment variable E(XPROTECT_GO_CLIENT_CERT).
    type: path
  client_key:
    description:
      - Private key (PEM) of O(client_cert).
      - Inventory C(ansible_winrm_cert_key_pem); on psrp hosts C(ansible_psrp_certificate_key_pem).
      - Environment variable E(XPROTECT_GO_CLIENT_KEY).
    type: path
  message_encryption:
    description:
      - WinRM message encryption. V(auto) encrypts over http with ntlm, kerberos and credssp.
      - Inventory C(ansible_winrm_message_encryption); on psrp hosts C(ansible_psrp_message_encryption).
      - Environment variable E(XPROTECT_GO_MESSAGE_ENCRYPTION).
      - Defaults to V(auto).
    type: str
    choices: [auto, always, never]
  connection_timeout:
    description:
      - Seconds to wait for any one answer from the listener. Must be greater than O(operation_timeout).
      - Inventory C(ansible_winrm_read_timeout_sec) or C(ansible_winrm_connection_timeout); on psrp hosts
        C(ansible_psrp_read_timeout) or C(ansible_psrp_connection_timeout).
      - Environment variable E(XPROTECT_GO_CONNECTION_TIMEOUT).
      - Defaults to V(30).
      - Between V(1) and V(3600) seconds.
    type: int
  operation_timeout:
    description:
      - Seconds the listener may spend on one WS-Management operation.
      - Inventory C(ansible_winrm_operation_timeout_sec); on psrp hosts C(ansible_psrp_operation_timeout).
      - Environment variable E(XPROTECT_GO_OPERATION_TIMEOUT).
      - Defaults to V(20).
      - Between V(1) and V(3600) seconds.
    type: int
notes:
  - Connection settings are taken in this order, the first that is set wins, option by option
    (1) the task's options, including C(module_defaults) for C(group/xprotect.go.all);
    (2) the inventory host's connection settings (C(ansible_host), C(ansible_port), C(ansible_user), C(ansible_password),
    C(ansible_winrm_*), or C(ansible_psrp_*) for hosts on the psrp connection), of the variables listed for an option
    the first one set; (3) the E(XPROTECT_GO_*) environment variables; (4) the defaults.
  - Credentials go to the configured endpoint and nowhere else; a host, port or path that would make the endpoint
    anything other than C(scheme://host:port/path) is refused, naming the setting it came from.
  - Against a Windows inventory host (C(ansible_connection=winrm) or C(psrp)) the module runs inside Ansible on the
    controller and opens no shell on the host. With C(delegate_to=localhost) it does the same, still using the
    inventory host's connection settings. It runs as a separate module process, with those settings filled in,
    only where it must; with C(become), when delegated to another host, or when pywinrm does not import in the
    controller's Python (it then needs pywinrm in the interpreter that runs it).
  - Nothing is copied to or run on the Windows host; the module uses WS-Management calls to WMI only.
  - A host that cannot be reached (connection refused or reset, no route, no answer within O(connection_timeout)) is
    reported as unreachable, both ways in, so the play goes on with the other hosts.
requirements:
  - pywinrm >= 0.5.0 on the controller
"""
