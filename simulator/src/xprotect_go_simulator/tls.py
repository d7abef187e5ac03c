# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Certificates for the simulated hosts: one CA, one server certificate, client certificates.

Everything is made once per fleet with EC P-256 keys (milliseconds, where RSA would take
seconds) and written as PEM files to a directory the caller owns.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from typing import Iterable, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# Windows maps a client certificate to a local account through this SAN (otherName UPN).
UPN_OID = ObjectIdentifier('1.3.6.1.4.1.311.20.2.3')
CLIENT_UPN_DOMAIN = 'localhost'
VALID_DAYS = 30


def _name(common_name):
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'xprotect.go simulator'), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _der_utf8_string(text):
    data = text.encode('utf-8')
    if len(data) < 0x80:
        length = bytes([len(data)])
    else:
        size = len(data).to_bytes((len(data).bit_length() + 7) // 8, 'big')
        length = bytes([0x80 | len(size)]) + size
    return b'\x0c' + length + data


def _parse_der_utf8_string(der):
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, start = der[1], 2
    if length & 0x80:
        size = length & 0x7F
        length, start = int.from_bytes(der[2 : 2 + size], 'big'), 2 + size
    return der[start : start + length].decode('utf-8', errors='replace')


def _write(path, data):
    # Private keys too: the directory is the caller's temporary directory.
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class TlsMaterial:
    """CA, server certificate (SAN = every address and host name served) and client certificates."""

    def __init__(self, directory: str, addresses: Iterable[str], hostnames: Iterable[str] = ()) -> None:
        self.directory = directory
        self._now = datetime.datetime.now(datetime.timezone.utc)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        # One key for the server certificate and every client certificate: generating keys is
        # the slow part and nothing here needs them to differ.
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_cert = self._build_ca()
        self.ca_path = _write(os.path.join(directory, 'ca.pem'), self._ca_cert.public_bytes(serialization.Encoding.PEM))
        self.leaf_key_path = _write(os.path.join(directory, 'leaf-key.pem'), _key_pem(self._leaf_key))
        server_cert = self._build_server(addresses, hostnames)
        self.server_cert_path = _write(os.path.join(directory, 'server.pem'), server_cert.public_bytes(serialization.Encoding.PEM))
        self._client_certs: dict[str, tuple[str, str]] = {}
        self._server_contexts: dict[bool, ssl.SSLContext] = {}

    def _builder(self, subject, issuer, public_key, is_ca):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - datetime.timedelta(days=1))
            .not_valid_after(self._now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    def _build_ca(self):
        name = _name('xprotect.go simulator CA')
        builder = self._builder(name, name, self._ca_key.public_key(), True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        return builder.sign(self._ca_key, hashes.SHA256())

    def _leaf(self, subject, san, usage):
        builder = self._builder(subject, self._ca_cert.subject, self._leaf_key.public_key(), False)
        builder = (
            builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
        )
        return builder.sign(self._ca_key, hashes.SHA256())

    def _build_server(self, addresses, hostnames):
        san: list[x509.GeneralName] = [x509.DNSName('localhost')]
        san += [x509.DNSName(name) for name in dict.fromkeys(hostnames)]
        san += [x509.IPAddress(ipaddress.ip_address(address)) for address in dict.fromkeys(addresses)]
        return self._leaf(_name('localhost'), san, ExtendedKeyUsageOID.SERVER_AUTH)

    def client_certificate(self, username: str) -> tuple[str, str]:
        """(cert_pem_path, key_pem_path) for certificate authentication as `username`."""
        key = username.lower()
        if key not in self._client_certs:
            upn = '%s@%s' % (username, CLIENT_UPN_DOMAIN)
            cert = self._leaf(_name(username), [x509.OtherName(UPN_OID, _der_utf8_string(upn))], ExtendedKeyUsageOID.CLIENT_AUTH)
            safe = ''.join(char if char.isalnum() or char in '-_.' else '_' for char in username)
            path = _write(os.path.join(self.directory, 'client-%s.pem' % safe), cert.public_bytes(serialization.Encoding.PEM))
            self._client_certs[key] = (path, self.leaf_key_path)
        return self._client_certs[key]

    def server_context(self, verify_clients: bool) -> ssl.SSLContext:
        """TLS context for listeners (shared); with verify_clients, client certificates signed by the CA are asked for."""
        if verify_clients in self._server_contexts:
            return self._server_contexts[verify_clients]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert_path, self.leaf_key_path)
        if verify_clients:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(self.ca_path)
        self._server_contexts[verify_clients] = context
        return context


def certificate_user(der: bytes) -> Optional[str]:
    """User name a client certificate maps to: its UPN SAN's user part, else its subject CN."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san: Iterable[x509.GeneralName] = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = []
    for entry in san:
        if isinstance(entry, x509.OtherName) and entry.type_id == UPN_OID:
            upn = _parse_der_utf8_string(entry.value)
            if upn:
                return upn.split('@', 1)[0]
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None
