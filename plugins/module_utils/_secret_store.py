# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The ``secret_store`` option: its argument spec,
its validation (every ConfigurationError names ``secret_store.<key>`` and comes before any request),
the environment fallbacks (Vault's own variable names), and the store it describes.

Where a new integration's client secret goes straight from Creatio's answer, inside the module
process: ``vault_kv2`` (HashiCorp Vault or OpenBao, KV version 2), ``ansible_vault_file`` (a file
encrypted with ansible-core's vault code) or ``files`` (the secrets folder). The stores themselves
are in _secret_store_vault and _secret_store_files; what they share in _secret_store_base."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_base import (
    SecretStore, SecretStoreConflictError, SecretStoreError, check_relative_path, check_template, render, secret_document, site_of,
)
# The stores themselves (_secret_store_files, _secret_store_vault, which imports requests) are imported by the
# functions that make one: a module run without a secret store never compiles them (see the performance page).

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # noqa: F401

# The API of the secret stores, in one place: what the modules and the tests import.
__all__ = ['SecretStore', 'SecretStoreConflictError', 'SecretStoreError', 'STORE_TYPES', 'parse_secret_store', 'secret_document',
           'secret_store_argspec', 'secret_store_from_option', 'site_of']

STORE_TYPES = ('vault_kv2', 'ansible_vault_file', 'files')
DEFAULT_VAULT_PATH = 'creatio/{site}/{name}'

SECRET_STORE_OPTIONS = dict(
    type=dict(type='str', required=True, choices=list(STORE_TYPES)),
    path=dict(type='str'),
    url=dict(type='str'),
    mount_point=dict(type='str'),
    auth_method=dict(type='str', choices=['token', 'approle']),
    auth_mount_point=dict(type='str'),
    token=dict(type='str', no_log=True),
    role_id=dict(type='str'),
    secret_id=dict(type='str', no_log=True),
    namespace=dict(type='str'),
    ca_cert=dict(type='path'),
    validate_certs=dict(type='bool'),
    vault_password_file=dict(type='path', no_log=False),
    vault_id=dict(type='str'),
)

# Which keys apply to which type (``type`` and ``path`` to all).
TYPE_KEYS = {
    'vault_kv2': ('url', 'mount_point', 'auth_method', 'auth_mount_point', 'token', 'role_id', 'secret_id', 'namespace', 'ca_cert',
                  'validate_certs'),
    'ansible_vault_file': ('vault_password_file', 'vault_id'),
    'files': (),
}

# Read at run time in the module's environment, as Vault's own CLI and ansible-vault do.
ENV_FALLBACKS = {
    'url': 'VAULT_ADDR',
    'token': 'VAULT_TOKEN',
    'role_id': 'VAULT_ROLE_ID',
    'secret_id': 'VAULT_SECRET_ID',
    'namespace': 'VAULT_NAMESPACE',
    'ca_cert': 'VAULT_CACERT',
    'vault_password_file': 'ANSIBLE_VAULT_PASSWORD_FILE',
}
SKIP_VERIFY_ENV = 'VAULT_SKIP_VERIFY'
_VAULT_ID_SHAPE = re.compile(r'\A[A-Za-z0-9_.-]+\Z')
_MOUNT_SHAPE = re.compile(r'\A[^\x00-\x20\x7f]+\Z')


def secret_store_argspec():
    """The ``secret_store`` module option: a dict whose keys AnsibleModule checks for type and
    marks no_log (token, secret_id); parse_secret_store does the rest, in the module process."""
    # no_log=False: the option names where secrets go, not a secret; its token and secret_id are no_log themselves.
    return dict(type='dict', no_log=False, options=dict((k, dict(v)) for k, v in SECRET_STORE_OPTIONS.items()))


def parse_secret_store(option, environ=None):
    """The validated ``secret_store`` option, defaults and environment fallbacks applied: a dict of
    the keys of its type. Raises ConfigurationError naming ``secret_store.<key>``."""
    environ = os.environ if environ is None else environ
    if not isinstance(option, dict):
        raise ConfigurationError('secret_store must be a dictionary (got %s)' % type(option).__name__, option='secret_store',
                                 hint='e.g. {type: vault_kv2, url: https://vault.example.com:8200}')
    given = dict((k, v) for k, v in option.items() if v is not None)
    store_type = given.get('type')
    if store_type not in STORE_TYPES:
        raise ConfigurationError('secret_store.type must be one of %s (got %r)' % (', '.join(STORE_TYPES), store_type),
                                 option='secret_store.type')
    for key in sorted(given):
        if key not in SECRET_STORE_OPTIONS:
            raise ConfigurationError('secret_store.%s is not a secret_store key' % key, option='secret_store.%s' % key,
                                     hint='the keys are %s' % ', '.join(sorted(SECRET_STORE_OPTIONS)))
        if key not in ('type', 'path') and key not in TYPE_KEYS[store_type]:
            raise ConfigurationError('secret_store.%s does not apply to type %s' % (key, store_type), option='secret_store.%s' % key,
                                     hint='remove it (the keys of %s: %s)' % (store_type, ', '.join(('path',) + TYPE_KEYS[store_type])))
    config = dict(given)
    for key in TYPE_KEYS[store_type]:
        if key not in config and environ.get(ENV_FALLBACKS.get(key, '')):
            config[key] = environ[ENV_FALLBACKS[key]]
    parse = {'vault_kv2': _parse_vault, 'ansible_vault_file': _parse_vault_file, 'files': _parse_files}[store_type]
    return parse(config, given, environ)


def secret_store_from_option(option, timeout=30, environ=None, run_command=None):
    """The SecretStore that ``secret_store`` describes (nothing sent yet). ``timeout``: the module's
    request_timeout, for a Vault too. ``run_command``: the module's AnsibleModule.run_command, which
    the ansible_vault_file store needs (it runs ansible-core's vault code in a child process)."""
    config = parse_secret_store(option, environ)
    if config['type'] == 'vault_kv2':
        from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_vault import VaultKv2Store
        return VaultKv2Store(config, timeout=timeout)
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_files import AnsibleVaultFileStore, FilesStore
    if config['type'] == 'ansible_vault_file':
        if run_command is None:
            raise ValueError('secret_store type ansible_vault_file needs the module\'s run_command')
        return AnsibleVaultFileStore(config, run_command)
    return FilesStore(config)


# --- per type ---------------------------------------------------------------------------------------

def _parse_vault(config, given, environ):
    config['url'] = _vault_url(config.get('url'))
    mount = (config.get('mount_point') or 'secret').strip('/')
    if not _MOUNT_SHAPE.match(mount):
        raise ConfigurationError('secret_store.mount_point %r has a space or a control character' % mount,
                                 option='secret_store.mount_point')
    config['mount_point'] = check_relative_path(mount, option='secret_store.mount_point', what='the Vault API')
    config['path'] = config.get('path') or DEFAULT_VAULT_PATH
    check_template(config['path'])
    # A template that already leaves the mount fails now, whatever the names.
    check_relative_path(render(config['path'], 'site', 'name'), what='the mount %s' % mount)
    namespace = config.get('namespace')
    if namespace is not None:
        config['namespace'] = check_relative_path(namespace.strip('/'), option='secret_store.namespace', what='the root namespace')
    config['validate_certs'] = _validate_certs(given, environ)
    ca_cert = config.get('ca_cert')
    if ca_cert and not os.path.exists(os.path.expanduser(ca_cert)):
        raise ConfigurationError('secret_store.ca_cert %s does not exist' % ca_cert, option='secret_store.ca_cert',
                                 hint='give a PEM file with the CA that signed the Vault server\'s certificate (or VAULT_CACERT)')
    ca_cert = os.path.expanduser(ca_cert) if ca_cert else None
    config['verify'] = ca_cert if (config['validate_certs'] and ca_cert) else config['validate_certs']
    config['auth'] = _vault_auth(config, given)
    return config


def _vault_url(value):
    if not value:
        raise ConfigurationError('secret_store.url is required for type vault_kv2', option='secret_store.url',
                                 hint='give the Vault address, e.g. https://vault.example.com:8200 (or set VAULT_ADDR)')
    if '@' in value:
        raise ConfigurationError('secret_store.url must not contain a user name or password', option='secret_store.url',
                                 hint='log in with secret_store.auth_method')
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError('secret_store.url must be an absolute http(s) URL with no query, got %r' % value,
                                 option='secret_store.url', hint='e.g. https://vault.example.com:8200 (the address, without /v1)')
    try:
        parts.port
    except ValueError:
        raise ConfigurationError('secret_store.url has an invalid port', option='secret_store.url')
    path = parts.path.rstrip('/')
    if path.endswith('/v1'):
        path = path[:-3]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, '', ''))


def _validate_certs(given, environ):
    """secret_store.validate_certs, else the opposite of VAULT_SKIP_VERIFY, else true."""
    if given.get('validate_certs') is not None:
        source, value, negate = 'secret_store.validate_certs', given['validate_certs'], False
    elif environ.get(SKIP_VERIFY_ENV):
        source, value, negate = SKIP_VERIFY_ENV, environ[SKIP_VERIFY_ENV], True
    else:
        return True
    try:
        return boolean(value) != negate
    except TypeError:
        raise ConfigurationError('%s must be true or false, got %r' % (source, value), option='secret_store.validate_certs')


def _vault_auth(config, given):
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_vault import AppRoleAuth, TokenAuth
    method = config.get('auth_method') or 'token'
    if method == 'token':
        for key in ('role_id', 'secret_id'):
            if key in given:
                raise ConfigurationError('secret_store.%s does not apply to auth_method token' % key, option='secret_store.%s' % key,
                                         hint='set auth_method: approle, or remove it')
        if not config.get('token'):
            raise ConfigurationError('secret_store.token is required for auth_method token', option='secret_store.token',
                                     hint='set VAULT_TOKEN in the environment of the run (in AWX: a credential), or use auth_method: approle')
        return TokenAuth(config['token'])
    if method == 'approle':
        if 'token' in given:
            raise ConfigurationError('secret_store.token does not apply to auth_method approle', option='secret_store.token',
                                     hint='remove it: the AppRole login gives the token')
        for key in ('role_id', 'secret_id'):
            if not config.get(key):
                raise ConfigurationError('secret_store.%s is required for auth_method approle' % key, option='secret_store.%s' % key,
                                         hint='or set %s in the environment of the run' % ENV_FALLBACKS[key])
        mount = (config.get('auth_mount_point') or 'approle').strip('/')
        check_relative_path(mount, option='secret_store.auth_mount_point', what='auth/')
        return AppRoleAuth(config['role_id'], config['secret_id'], mount_point=mount)
    raise ConfigurationError('secret_store.auth_method must be token or approle (got %r)' % method, option='secret_store.auth_method')


def _parse_file_path(config, store_type):
    path = config.get('path')
    if not path:
        raise ConfigurationError('secret_store.path is required for type %s' % store_type, option='secret_store.path',
                                 hint='e.g. ~/.creatio_secrets/{site}/{name}.json')
    check_template(path)
    expanded = os.path.expanduser(path)
    if not expanded.startswith('/'):
        raise ConfigurationError('secret_store.path %r must be absolute (or start with ~)' % path, option='secret_store.path',
                                 hint='e.g. ~/.creatio_secrets/{site}/{name}.json')
    check_relative_path(render(expanded, 'site', 'name').lstrip('/'), what='the folder of secret_store.path')


def _parse_files(config, given, environ):
    _parse_file_path(config, 'files')
    return config


def _parse_vault_file(config, given, environ):
    _parse_file_path(config, 'ansible_vault_file')
    password_file = config.get('vault_password_file')
    if not password_file:
        raise ConfigurationError('secret_store.vault_password_file is required for type ansible_vault_file',
                                 option='secret_store.vault_password_file', hint='or set ANSIBLE_VAULT_PASSWORD_FILE')
    password_file = os.path.expanduser(password_file)
    if not os.path.isfile(password_file):
        raise ConfigurationError('secret_store.vault_password_file %s does not exist' % password_file,
                                 option='secret_store.vault_password_file', hint='or set ANSIBLE_VAULT_PASSWORD_FILE')
    config['vault_password_file'] = password_file
    vault_id = config.get('vault_id')
    if vault_id is not None and not _VAULT_ID_SHAPE.match(vault_id):
        raise ConfigurationError('secret_store.vault_id %r may hold only letters, digits, "_", "." and "-"' % vault_id,
                                 option='secret_store.vault_id', hint='e.g. vault_id: creatio')
    return config
