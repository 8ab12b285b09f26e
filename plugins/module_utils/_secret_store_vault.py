# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The ``vault_kv2`` secret store: HashiCorp Vault or
OpenBao, KV version 2, over its HTTP API (no hvac), through the collection's HttpTransport so that
timeouts, TLS and retries behave as they do towards Creatio.

Writes use check-and-set: a document is created only where none ever was (``cas=0``, or the version
of a deleted one), and replaced only when the version read just before is still the current one, so
two runs never write over each other unseen."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, TLSError, TransportError
from ansible_collections.creatio.oauth.plugins.module_utils._records import same_client
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_base import (
    SecretStore, SecretStoreConflictError, SecretStoreError, check_relative_path, holder_of, render,
)
from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport

try:
    from urllib.parse import quote, urlsplit
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401
    from urlparse import urlsplit  # noqa: F401

CAS_REFUSED = 'check-and-set'
LOOPBACK = ('127.0.0.1', '::1', 'localhost')
SEALED_HINT = 'unseal it (bao operator unseal / vault operator unseal), then re-run'


class TokenAuth(object):
    """auth_method: token (secret_store.token, VAULT_TOKEN)."""

    name = 'token'

    def __init__(self, token):
        self.token = token

    def login(self, store):
        # The token is checked here rather than at the first read, so that a refused one is named as such.
        store.call('GET', 'auth/token/lookup-self', 'token lookup (auth/token/lookup-self)', token=self.token)
        return self.token

    def secrets(self):
        return [self.token]


class AppRoleAuth(object):
    """auth_method: approle (secret_store.role_id / secret_id, VAULT_ROLE_ID / VAULT_SECRET_ID)."""

    name = 'approle'

    def __init__(self, role_id, secret_id, mount_point='approle'):
        self.role_id = role_id
        self.secret_id = secret_id
        self.mount_point = mount_point
        self.token = None

    def login(self, store):
        # Not safe to repeat: a secret id may be limited to a number of uses.
        body = store.call('POST', 'auth/%s/login' % _quoted(self.mount_point), 'AppRole login (auth/%s/login)' % self.mount_point,
                          json={'role_id': self.role_id, 'secret_id': self.secret_id}, token=None, safe=False)
        token = (body.get('auth') or {}).get('client_token')
        if not token:
            raise SecretStoreError('the AppRole login at %s gave no client token' % store.url, store=store.describe(None),
                                   call='AppRole login', hint='check the AppRole role of secret_store.role_id')
        self.token = token
        return token

    def secrets(self):
        return [self.role_id, self.secret_id, self.token]


class VaultKv2Store(SecretStore):
    """config keys: url, mount_point, path (template), namespace, verify (requests' verify), auth
    (TokenAuth or AppRoleAuth)."""

    type_name = 'vault_kv2'

    def __init__(self, config, timeout=30, transport=None):
        super(VaultKv2Store, self).__init__(config)
        self.url = config['url']
        self.mount = config['mount_point']
        self.namespace = config.get('namespace')
        self.auth = config['auth']
        self.transport = transport or HttpTransport(timeout=timeout, verify=config['verify'])
        self._token = None
        self._held = {}  # path -> secrets read back, scrubbed from errors too
        self._holders = {}  # path -> the identity of the document read last (holder_of)
        parts = urlsplit(self.url)
        if parts.scheme == 'http' and parts.hostname not in LOOPBACK:
            self.warnings.append('secret_store.url %s is plain http: the Vault token and the client secret cross the network '
                                 'unencrypted; use https' % self.url)
        if config['verify'] is False:
            self.warnings.append('secret_store.validate_certs is false: the TLS certificate of %s is not checked, so the Vault '
                                 'token and the client secret can go to whoever answers there' % self.url)

    # --- the SecretStore interface ------------------------------------------------------------------
    def location(self, site, name):
        return check_relative_path(render(self.config['path'], site, name.replace('/', '_')),
                                   what='the mount %s' % self.mount)

    def describe(self, path):
        namespace = ' (namespace %s)' % self.namespace if self.namespace else ''
        where = ', %s/%s' % (self.mount, path) if path else ''
        return 'vault_kv2 %s%s%s' % (self.url, namespace, where)

    def _check_usable(self, path):
        self._check_unsealed(path)
        self._login()
        self._check_mount()
        self._metadata(path)

    def _current_client_id(self, path):
        return self._read(path)[1]

    def _fence(self, path, client_id):
        version, held = self._read(path)
        if not same_client(held, client_id):
            return False
        body = self.call('GET', self._kv('data', path), 'read %s/data/%s' % (self.mount, path), path=path, missing_ok=True)
        data = ((body or {}).get('data') or {})
        if int((data.get('metadata') or {}).get('version') or 0) != version or not isinstance(data.get('data'), dict):
            return False
        call = 'write %s/data/%s again (check-and-set %d)' % (self.mount, path, version)
        try:
            self.call('POST', self._kv('data', path), call, json={'options': {'cas': version}, 'data': data['data']},
                      safe=False, path=path, refused=self._cas_refused)
        except SecretStoreConflictError:
            return False
        return True

    def _current_holder(self, path):
        version, client_id = self._read(path)
        return self._holders.get(path) if client_id else None

    def _withdraw(self, path, client_id, version):
        current, held = self._read(path)
        if not same_client(held, client_id) or (version is not None and int(version) != current):
            return False
        # Only the version this run wrote is deleted (soft, undeletable): were another run to write a newer one
        # meanwhile, that one stays the current one.
        call = 'delete version %d of %s/data/%s' % (current, self.mount, path)
        self.call('POST', self._kv('delete', path), call, json={'versions': [current]}, safe=True, path=path)
        return True

    def _deliver(self, path, document, previous_client_id, expected_version=None):
        client_id = document['client_id']
        version, held = self._read(path)
        if same_client(held, client_id):
            return {'changed': False, 'location': self.describe(path), 'version': version}
        if expected_version is not None and version != int(expected_version):
            raise self._error(SecretStoreConflictError, '%s was written by another run since this run read it (version %d then, %d '
                              'now, holding %s); the secret of client id %s was not written there'
                              % (self.describe(path), int(expected_version), version,
                                 'client id %s' % held if held else 'nothing', client_id), path,
                              hint='another run rotated this integration, or rolled this rotation back, at the same time: '
                                   're-run from one controller')
        if held is not None:
            # Something live is there: replaced only when it is the client this one replaces.
            if not same_client(held, previous_client_id):
                raise self._unexpected_holder(path, held, document, previous_client_id)
        call = 'write %s/data/%s (check-and-set %d)' % (self.mount, path, version)
        try:
            body = self.call('POST', self._kv('data', path), call, json={'options': {'cas': version}, 'data': document},
                             safe=False, path=path, refused=self._cas_refused)
        except TransportError as exc:
            if isinstance(exc, TLSError) or not exc.may_have_reached_server:
                raise
            # The answer was lost: what the store holds now says whether the write happened.
            written, now_held = self._read(path)
            if not same_client(now_held, client_id):
                raise
            return {'changed': True, 'location': self.describe(path), 'version': written}
        return {'changed': True, 'location': self.describe(path), 'version': (body.get('data') or {}).get('version')}

    def secrets(self):
        found = [s for s in self.auth.secrets() if s]
        for held in self._held.values():
            found.extend(held)
        return found

    def close(self):
        self.transport.close()

    # --- steps ----------------------------------------------------------------------------------------
    def _check_unsealed(self, path):
        body = self.call('GET', 'sys/seal-status', 'seal status (sys/seal-status)', token=None, path=path)
        if body.get('sealed'):
            raise SecretStoreError('%s is sealed: nothing can be stored there' % self.url, store=self.describe(path),
                                   call='seal status (sys/seal-status)', hint=SEALED_HINT)

    def _login(self):
        if self._token is None:
            self._token = self.auth.login(self)
        return self._token

    def _check_mount(self):
        call = 'mount lookup (sys/internal/ui/mounts/%s)' % self.mount
        body = self.call('GET', 'sys/internal/ui/mounts/%s' % _quoted(self.mount), call)
        mount = body.get('data') or {}
        version = str((mount.get('options') or {}).get('version') or '1')
        if mount.get('type') not in ('kv', 'generic') or version != '2':
            raise ConfigurationError(
                'secret_store.mount_point %s is a %s mount%s, not a KV version 2 one' % (
                    self.mount, mount.get('type') or 'unknown', ' (KV version %s)' % version if mount.get('type') == 'kv' else ''),
                option='secret_store.mount_point',
                hint='name a KV version 2 mount (bao secrets enable -version=2 -path=%s kv), or upgrade this one' % self.mount)

    def _metadata(self, path):
        """The current version and whether it is live: (0, False) where nothing was ever written."""
        body = self.call('GET', self._kv('metadata', path), 'read %s/metadata/%s' % (self.mount, path), path=path, missing_ok=True)
        if body is None:
            return 0, False
        data = body.get('data') or {}
        version = int(data.get('current_version') or 0)
        current = (data.get('versions') or {}).get(str(version)) or {}
        return version, bool(version) and not current.get('deletion_time') and not current.get('destroyed')

    def _read(self, path):
        """(current version, client id held there or None)."""
        self._login()
        version, live = self._metadata(path)
        if not live:
            return version, None
        body = self.call('GET', self._kv('data', path), 'read %s/data/%s' % (self.mount, path), path=path, missing_ok=True)
        data = ((body or {}).get('data') or {})
        held = data.get('data') or {}
        self._held[path] = [v for k, v in held.items() if k == 'client_secret' and isinstance(v, str)]
        read_version = int((data.get('metadata') or {}).get('version') or version)
        self._holders[path] = holder_of(held, read_version)
        client_id = held.get('client_id')
        return read_version, client_id if isinstance(client_id, str) and client_id else None

    # --- HTTP ---------------------------------------------------------------------------------------
    def _kv(self, kind, path):
        return '%s/%s/%s' % (_quoted(self.mount), kind, _quoted(path))

    def call(self, method, api_path, call, json=None, token=Ellipsis, safe=True, path=None, missing_ok=False, refused=None):
        """One request to ``/v1/<api_path>``: the parsed answer; None for a 404 with ``missing_ok``.
        ``token``: Ellipsis for the store's login token, None for none."""
        # X-Vault-Request: what Vault's own clients send (a Vault Agent in front may require it).
        headers = {'Accept': 'application/json', 'X-Vault-Request': 'true'}
        if token is Ellipsis:
            token = self._login()
        if token:
            headers['X-Vault-Token'] = token
        if self.namespace:
            headers['X-Vault-Namespace'] = self.namespace
        url = '%s/v1/%s' % (self.url, api_path)
        try:
            response = self.transport.request(method, url, call, safe, json=json, headers=headers)
        except TLSError as exc:
            exc.hint = 'give secret_store.ca_cert (or VAULT_CACERT): the CA that signed the certificate of %s' % self.url
            raise
        except TransportError as exc:
            exc.hint = 'check secret_store.url (or VAULT_ADDR) and that %s is reachable from where the module runs' % self.url
            raise
        body = _json_of(response)
        status = response.status_code
        if 200 <= status < 300:
            if body is None and status != 204:
                raise SecretStoreError('%s: the answer to %s is not Vault\'s JSON' % (self.describe(path), call), store=self.describe(path),
                                       call=call, status=status, hint='check that secret_store.url is the Vault (or OpenBao) address')
            return body or {}
        said = _vault_said(body)
        if status == 404 and missing_ok and not said:
            return None
        if status == 503 or 'sealed' in said.lower():
            raise SecretStoreError('%s is sealed (or unavailable): %s' % (self.url, said or 'no reason given'), store=self.describe(path),
                                   call=call, status=status, hint=SEALED_HINT)
        if refused is not None:
            refused(status, said, call, path)
        raise SecretStoreError('%s: %s refused%s' % (self.describe(path), call, ': Vault said: %s' % said if said else ''),
                               store=self.describe(path), call=call, status=status, hint=self._hint(status, said, call))

    def _hint(self, status, said, call):
        if 300 <= status < 400:
            return ('Vault answered with a redirect, which is not followed (the token would go along): give the address of '
                    'the active node in secret_store.url')
        if call.startswith('AppRole login'):
            return ('check secret_store.role_id and secret_store.secret_id (VAULT_ROLE_ID / VAULT_SECRET_ID): the secret id may '
                    'have expired or used up its uses')
        if call.startswith('token lookup'):
            return ('the token in secret_store.token (or VAULT_TOKEN) is wrong, expired or revoked (or lacks the default policy, '
                    'which lets a token look itself up)')
        if status == 403 and 'preflight' in said:
            return 'no mount %s is visible to this token: check secret_store.mount_point and the token\'s policies' % self.mount
        if status == 403:
            return ('the token\'s policies must allow read on %s/metadata/<path> and %s/data/<path>, and create and update on '
                    '%s/data/<path>' % (self.mount, self.mount, self.mount))
        if status == 404:
            return 'check secret_store.mount_point and secret_store.url'
        return None

    def _cas_refused(self, status, said, call, path):
        if status == 400 and CAS_REFUSED in said:
            raise SecretStoreConflictError(
                '%s changed while this run was writing there (Vault refused the check-and-set: %s); nothing was written over it'
                % (self.describe(path), said), store=self.describe(path), call=call, status=status,
                hint='another run wrote there at the same time: check what it holds, then re-run')


def _quoted(path):
    return quote(path, safe='/')


def _json_of(response):
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _vault_said(body):
    errors = (body or {}).get('errors') or []
    return '; '.join(str(e) for e in errors if e)
