# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options, defined once: the argument spec every module merges, the checks that
run before any request, and the factory that builds a CreatioClient from them.

Environment variables bind late through env_fallback, so the precedence is the one users expect:
task argument > module_defaults > environment.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.creatio.oauth.plugins.module_utils import api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils.errors import ConfigurationError

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # noqa: F401

DEFAULT_CACHE_PATH = '~/.ansible/creatio_oauth/facts.json'


def _bool_env_fallback(name):
    return (env_fallback, [name])


CONNECTION_ARGSPEC = dict(
    creatio_url=dict(type='str', required=True, fallback=(env_fallback, ['CREATIO_URL'])),
    creatio_username=dict(type='str', fallback=(env_fallback, ['CREATIO_USERNAME'])),
    creatio_password=dict(type='str', no_log=True, fallback=(env_fallback, ['CREATIO_PASSWORD'])),
    creatio_client_id=dict(type='str', fallback=(env_fallback, ['CREATIO_CLIENT_ID'])),
    creatio_client_secret=dict(type='str', no_log=True, fallback=(env_fallback, ['CREATIO_CLIENT_SECRET'])),
    creatio_identity_url=dict(type='str', fallback=(env_fallback, ['CREATIO_IDENTITY_URL'])),
    validate_certs=dict(type='bool', default=True, fallback=_bool_env_fallback('CREATIO_VALIDATE_CERTS')),
    ca_path=dict(type='path', fallback=(env_fallback, ['CREATIO_CA_PATH'])),
    request_timeout=dict(type='float', default=30, fallback=(env_fallback, ['CREATIO_REQUEST_TIMEOUT'])),
    cache_path=dict(type='path', fallback=(env_fallback, ['CREATIO_CACHE_PATH'])),
    reuse_session=dict(type='bool', default=True, fallback=_bool_env_fallback('CREATIO_REUSE_SESSION')),
)


def connection_argspec():
    """A copy of the connection options, to merge into a module's own argument spec."""
    return dict((k, dict(v)) for k, v in CONNECTION_ARGSPEC.items())


def normalize_site_url(value):
    """The site root as a cache key and request base: scheme and host lower-case, no trailing
    slash, the virtual directory kept, a pasted "/0/..." suffix refused (it is never the root)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError('creatio_url is empty', option='creatio_url',
                                 hint='give the site root, e.g. https://mycompany.creatio.com')
    if '@' in value.strip().split('//', 1)[-1].split('/', 1)[0]:
        # Checked first so that a password pasted into the URL is never echoed by a later message.
        raise ConfigurationError('creatio_url must not contain a user name or password', option='creatio_url',
                                 hint='use creatio_username and creatio_password')
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname:
        raise ConfigurationError(
            'creatio_url must be an absolute http(s) URL, got %r' % value, option='creatio_url',
            hint='e.g. https://mycompany.creatio.com or https://host/CreatioApp for an on-site install')
    if parts.query or parts.fragment:
        raise ConfigurationError('creatio_url must not carry a query string or a fragment', option='creatio_url',
                                 hint='give only the site root')
    path = parts.path.rstrip('/')
    if '0' in path.split('/'):
        raise ConfigurationError(
            'creatio_url must be the site root, not a path under /0/ (got %r)' % value, option='creatio_url',
            hint='drop "/0" and what follows: the collection adds the API paths itself')
    return urlunsplit((parts.scheme.lower(), _netloc(parts, 'creatio_url'), path, '', ''))


def _netloc(parts, option):
    """Host lower-case (brackets kept for IPv6) and the port as given."""
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError('%s has an invalid port' % option, option=option)
    host = parts.hostname.lower()
    if ':' in host:
        host = '[%s]' % host
    return host + (':%d' % port if port else '')


def validate_connection(params):
    """Checks that need no request. Returns (site_url, login_kind, identity_url)."""
    site_url = normalize_site_url(params['creatio_url'])
    username, password = params.get('creatio_username'), params.get('creatio_password')
    client_id, client_secret = params.get('creatio_client_id'), params.get('creatio_client_secret')
    forms = (username, password)
    oauth = (client_id, client_secret)
    if any(forms) and any(oauth):
        raise ConfigurationError(
            'give exactly one login method: creatio_username/creatio_password or creatio_client_id/creatio_client_secret, not both',
            option='creatio_username',
            hint='remove one pair (check the CREATIO_* environment variables and module_defaults too)')
    if not any(forms) and not any(oauth):
        raise ConfigurationError(
            'no login given: set creatio_username and creatio_password, or creatio_client_id and creatio_client_secret',
            option='creatio_username', hint='or the CREATIO_USERNAME/CREATIO_PASSWORD environment variables')
    for (first, first_value), (second, second_value) in (
            (('creatio_username', username), ('creatio_password', password)),
            (('creatio_client_id', client_id), ('creatio_client_secret', client_secret))):
        if bool(first_value) != bool(second_value):
            missing = second if first_value else first
            given = first if first_value else second
            raise ConfigurationError('%s is given but %s is missing' % (given, missing), option=missing,
                                     hint='set %s (or %s)' % (missing, missing.upper()))
    timeout = params.get('request_timeout')
    if timeout is not None and not 0 < timeout <= 3600:
        raise ConfigurationError('request_timeout must be between 0 and 3600 seconds, got %s' % timeout,
                                 option='request_timeout')
    check_ca_path(params)
    if any(oauth):
        identity_url = identity_base_url(params, site_url)
        if not identity_url:
            raise ConfigurationError(
                'creatio_identity_url is required with creatio_client_id off Creatio cloud', option='creatio_identity_url',
                hint='use the value of the OAuth20IdentityServerUrl system setting')
        return site_url, 'oauth', identity_url
    return site_url, 'forms', None


def check_ca_path(params):
    ca_path = params.get('ca_path')
    if ca_path and not os.path.exists(ca_path):
        raise ConfigurationError('ca_path %s does not exist' % ca_path, option='ca_path',
                                 hint='give a PEM file (or a directory prepared with c_rehash)')


def identity_base_url(params, site_url):
    """The identity service root: creatio_identity_url when given, else the Creatio cloud default
    for the site host, else None."""
    if params.get('creatio_identity_url'):
        return normalize_identity_url(params['creatio_identity_url'])
    parts = urlsplit(site_url)
    return api.default_identity_url(parts.scheme, parts.hostname)


def normalize_identity_url(value):
    if '@' in value.strip().split('//', 1)[-1].split('/', 1)[0]:
        # Like creatio_url: refused before any message could echo a password pasted into the URL.
        raise ConfigurationError('creatio_identity_url must not contain a user name or password',
                                 option='creatio_identity_url', hint='use creatio_client_id and creatio_client_secret')
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError('creatio_identity_url must be an absolute http(s) URL, got %r' % value,
                                 option='creatio_identity_url',
                                 hint='use the value of the OAuth20IdentityServerUrl system setting')
    path = parts.path.rstrip('/')
    if path.endswith('/connect/token'):
        path = path[:-len('/connect/token')]
    return urlunsplit((parts.scheme.lower(), _netloc(parts, 'creatio_identity_url'), path, '', ''))


def cache_path_of(params):
    return os.path.expanduser(params.get('cache_path') or DEFAULT_CACHE_PATH)


def build_client(params, session_store=None):
    """A CreatioClient for validated params (validate_connection must have passed)."""
    # Imported here so that a module whose input fails validation never pays for importing requests.
    from ansible_collections.creatio.oauth.plugins.module_utils.auth import ClientCredentialsLogin, FormsLogin
    from ansible_collections.creatio.oauth.plugins.module_utils.client import CreatioClient
    from ansible_collections.creatio.oauth.plugins.module_utils.transport import HttpTransport

    site_url, kind, identity_url = validate_connection(params)
    if kind == 'oauth':
        login = ClientCredentialsLogin(identity_url, params['creatio_client_id'], params['creatio_client_secret'])
    else:
        login = FormsLogin(site_url, params['creatio_username'], params['creatio_password'])
    transport = HttpTransport(timeout=params.get('request_timeout') or 30,
                              validate_certs=params.get('validate_certs', True), ca_path=params.get('ca_path'))
    return CreatioClient(site_url, login, transport, session_store=session_store if params.get('reuse_session', True) else None)


VERIFY_ARGSPEC = dict(
    verify=dict(type='bool', default=True),
)


def verify_argspec():
    return dict((k, dict(v)) for k, v in VERIFY_ARGSPEC.items())


def identity_url_for_secret_file(params, site_url):
    """The token URL a consumer of a new client credentials integration will call, when known."""
    base = identity_base_url(params, site_url)
    return base + api.TOKEN_PATH if base else None
