# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS: the simulator serves HTTPS with a self-signed certificate made for the test.

Default validate_certs refuses it with a message naming validate_certs and ca_path (and nothing
reaches the application: the handshake fails first); ca_path pointing at that certificate works;
validate_certs: false works and warns.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import reliability_lib as lib  # pylint: disable=import-error

NAME = 'TLS app'
DECLARED = {NAME: {'grant_type': 'client_credentials', 'application_url': 'https://tls.example.com',
                   'system_user_id': lib.POWERBI_USER_ID, 'redirect_urls': []}}
PLAYBOOK = """
- name: TLS
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create over HTTPS
      creatio.oauth.creatio_oauth_client:
        name: %s
        grant_type: client_credentials
        application_url: https://tls.example.com
        system_user_id: %s
        validate_certs: "{{ validate | default(omit) }}"
        ca_path: "{{ ca | default(omit) }}"
""" % (NAME, lib.POWERBI_USER_ID)


def self_signed(directory):
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'creatio-simulator.test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(u'localhost'),
                                                        x509.IPAddress(ipaddress.ip_address(u'127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path = directory / 'sim-cert.pem'
    key_path = directory / 'sim-key.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_tls_refused_by_default_trusted_with_ca_path_and_warned_without_checks(request, make_simulator, run_playbook, tmp_path):
    cert, key = self_signed(tmp_path)
    sim = make_simulator(tls_cert=cert, tls_key=key)
    assert sim.url.startswith('https://127.0.0.1:')
    rel = lib.Reliability(request.node.nodeid, sim, run_playbook, str(tmp_path / 'tls-cache' / 'facts.json'), tmp_path)

    with rel.row('tls', 'self-signed certificate, default validate_certs', 'Login', injected=1, order=1) as row:
        refused = rel.run(PLAYBOOK)
        failure = lib.failure_of(refused)
        assert refused.rc != 0 and failure, refused
        _task, msg, error_type = failure
        assert error_type == 'TLSError', failure
        for word in ('TLS certificate verification failed', 'ca_path', 'validate_certs'):
            assert word in msg, msg
        assert sim.log() == [], 'a request reached the application over an unverified connection'
        row['outcome'] = 'refused: %s' % lib.short(msg, 150)
        row['check'] = 'ok: 0 requests reached the simulator; message names ca_path and validate_certs'

    with rel.row('tls', 'self-signed certificate, ca_path to it', 'Login, OData, AddClient', injected=0, order=2) as row:
        trusted = rel.run(PLAYBOOK, extra_vars={'ca': cert})
        assert trusted.rc == 0 and trusted.changed_tasks() == ['Create over HTTPS'], trusted
        assert not [w for w in trusted.task_result('Create over HTTPS').get('warnings') or [] if 'validate_certs' in w]
        rel.converged(DECLARED)
        row['outcome'] = 'created over verified HTTPS'
        row['check'] = 'ok: 1 integration, once; cache == simulator == declared'

    with rel.row('tls', 'self-signed certificate, validate_certs: false', 'Login/Token, OData', injected=0, order=3) as row:
        sim.clear_log()
        for login in ('forms', 'oauth'):
            unchecked = rel.run(PLAYBOOK, extra_vars={'validate': False}, login=login)
            assert unchecked.rc == 0 and not unchecked.changed_tasks(), unchecked
            warnings = unchecked.task_result('Create over HTTPS').get('warnings') or []
            assert [w for w in warnings if 'validate_certs is false' in w and 'ca_path' in w], warnings
            assert '[WARNING]: validate_certs is false' in unchecked.stdout + unchecked.stderr, unchecked
        # the forms run reuses the session of the ca_path run; the OAuth one gets a token over unchecked TLS
        assert [e['endpoint'] for e in sim.log()] == ['OData', 'Token', 'OData'], sim.log()
        rel.converged(DECLARED)
        row['outcome'] = 'works (forms and OAuth login), with a warning naming validate_certs and ca_path'
        row['check'] = 'ok: unchanged; cache == simulator == declared'
