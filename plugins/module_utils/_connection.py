# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The connection options, defined once: the
argument spec every module merges, and ``Connection``, the one value made from them before any
request. Every URL the collection sends to is derived here.

Environment variables bind late through env_fallback, so the precedence is the one users expect:
task argument > module_defaults > environment.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import ssl
import unicodedata

from ansible.module_utils.basic import env_fallback

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._normalize import netloc_of

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # noqa: F401

DEFAULT_CACHE_PATH = '~/.ansible/creatio_oauth/facts.json'
MAX_REQUEST_TIMEOUT = 3600


def _env(name):
    return (env_fallback, [name])


CONNECTION_ARGSPEC = dict(
    creatio_url=dict(type='str', required=True, fallback=_env('CREATIO_URL')),
    creatio_username=dict(type='str', fallback=_env('CREATIO_USERNAME')),
    creatio_password=dict(type='str', no_log=True, fallback=_env('CREATIO_PASSWORD')),
    creatio_client_id=dict(type='str', fallback=_env('CREATIO_CLIENT_ID')),
    creatio_client_secret=dict(type='str', no_log=True, fallback=_env('CREATIO_CLIENT_SECRET')),
    creatio_identity_url=dict(type='str', fallback=_env('CREATIO_IDENTITY_URL')),
    creatio_platform=dict(type='str', default='auto', choices=['auto', 'netframework', 'netcore'],
                          fallback=_env('CREATIO_PLATFORM')),
    validate_certs=dict(type='bool', default=True, fallback=_env('CREATIO_VALIDATE_CERTS')),
    ca_path=dict(type='path', fallback=_env('CREATIO_CA_PATH')),
    request_timeout=dict(type='float', default=30, fallback=_env('CREATIO_REQUEST_TIMEOUT')),
    cache_path=dict(type='path', fallback=_env('CREATIO_CACHE_PATH')),
    reuse_session=dict(type='bool', default=True, fallback=_env('CREATIO_REUSE_SESSION')),
)
# The one list of connection options: the role and the playbooks pass these (the creatio.oauth.connection_options
# lookup), so that an option added to the modules reaches them too.
CONNECTION_OPTIONS = tuple(CONNECTION_ARGSPEC)

VERIFY_ARGSPEC = dict(
    verify=dict(type='bool', default=True),
)


def connection_argspec(verify=False):
    """A copy of the connection options (and ``verify`` for the modules that change integrations),
    to merge into a module's own argument spec."""
    spec = dict((k, dict(v)) for k, v in CONNECTION_ARGSPEC.items())
    if verify:
        spec.update((k, dict(v)) for k, v in VERIFY_ARGSPEC.items())
    return spec


class Connection(object):
    """Where and how to reach one Creatio site, worked out once from the module parameters.

    ``login_kind`` is 'forms', 'oauth', or None for a module that does not log in. ``identity_url``
    is the identity service root the user gave, else None (the client discovers it, then falls back
    to ``cloud_identity_url``, the Creatio cloud convention). ``platform`` pins where the API lives
    ('netframework': under /0, 'netcore': at the site root) or leaves it to detection ('auto').
    """

    def __init__(self, site_url, login_kind=None, username=None, password=None, client_id=None, client_secret=None,
                 identity_url=None, validate_certs=True, ca_path=None, timeout=30, cache_path=None, reuse_session=True,
                 platform='auto'):
        self.site_url = site_url
        self.platform = platform
        self.login_kind = login_kind
        self.username = username
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret
        self.identity_url = identity_url
        self.cloud_identity_url = cloud_identity_url(site_url)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.cache_path = cache_path
        self.reuse_session = reuse_session

    @classmethod
    def from_params(cls, params, login=True):
        """Every check that needs no request; raises ConfigurationError naming the option.
        ``login=False`` for a module that accepts the login options without using them."""
        site_url = site_url_of(params['creatio_url'])
        timeout = params.get('request_timeout')
        if timeout is not None and not 0 < timeout <= MAX_REQUEST_TIMEOUT:
            raise ConfigurationError(
                'request_timeout must be more than 0 and at most %d seconds, got %s' % (MAX_REQUEST_TIMEOUT, timeout),
                option='request_timeout', hint='the default is 30 seconds')
        ca_path = params.get('ca_path')
        if ca_path and not os.path.exists(ca_path):
            raise ConfigurationError('ca_path %s does not exist' % ca_path, option='ca_path',
                                     hint='give a PEM file (or a directory prepared with c_rehash)')
        if ca_path and os.path.isfile(ca_path) and params.get('validate_certs', True) is not False:
            _check_ca_bundle(ca_path)
        given_identity = params.get('creatio_identity_url')
        connection = cls(site_url, identity_url=identity_url_of(given_identity) if given_identity else None,
                         validate_certs=params.get('validate_certs', True), ca_path=ca_path, timeout=timeout or 30,
                         cache_path=os.path.expanduser(params.get('cache_path') or DEFAULT_CACHE_PATH),
                         reuse_session=params.get('reuse_session', True), platform=params.get('creatio_platform') or 'auto')
        if login:
            connection._set_login(params)
        return connection

    def _set_login(self, params):
        username, password = params.get('creatio_username'), params.get('creatio_password')
        client_id, client_secret = params.get('creatio_client_id'), params.get('creatio_client_secret')
        forms, oauth = (username, password), (client_id, client_secret)
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
        if any(oauth):
            self.login_kind, self.client_id, self.client_secret = 'oauth', client_id, client_secret
        else:
            self.login_kind, self.username, self.password = 'forms', username, password

    # --- every URL the collection sends to ------------------------------------------------------
    @property
    def login_url(self):
        return self.site_url + api.LOGIN_PATH

    def api_paths(self, remembered=None):
        """Where the API may live, most likely first: the pinned platform alone, or the one remembered
        for this site (else .NET Framework's /0, the usual cloud site) and then the other."""
        if self.platform != 'auto':
            return [api.API_ROOTS[self.platform]]
        first = remembered if remembered in api.API_ROOTS.values() else api.API_ROOTS['netframework']
        return [first] + [p for p in (api.API_ROOTS['netframework'], api.API_ROOTS['netcore']) if p != first]

    def api_url(self, path, api_path):
        """A URL under the API root ``api_path`` (OAuthConfigService, OData, OpenID configuration)."""
        return self.site_url + api_path + path

    @property
    def given_token_url(self):
        """The token endpoint of the identity service the user gave (creatio_identity_url), or None; the one a
        run uses (given, discovered or the cloud convention) is CreatioClient.token_url()."""
        return self.identity_url + api.TOKEN_PATH if self.identity_url else None

    @property
    def cloud_token_url(self):
        """The Creatio cloud convention (the site host with -is), or None off cloud."""
        return self.cloud_identity_url + api.TOKEN_PATH if self.cloud_identity_url else None

    @property
    def session_path(self):
        return os.path.join(os.path.dirname(os.path.abspath(self.cache_path)), 'sessions.json')

    @property
    def verify(self):
        """requests' ``verify``: the CA bundle, or whether to check certificates at all."""
        return self.ca_path if (self.validate_certs and self.ca_path) else bool(self.validate_certs)

    def secrets(self):
        return [s for s in (self.password, self.client_secret) if s]


# --- URL rules -------------------------------------------------------------------------------------

def site_url_of(value):
    """The site root as a cache key and request base: scheme and host lower-case, no trailing
    slash, the virtual directory kept, a pasted "/0/..." suffix refused (it is never the root)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError('creatio_url is empty', option='creatio_url',
                                 hint='give the site root, e.g. https://mycompany.creatio.com')
    parts = _split(value, 'creatio_url', 'use creatio_username and creatio_password',
                   'e.g. https://mycompany.creatio.com or https://host/CreatioApp for an on-site install')
    if parts.query or parts.fragment:
        raise ConfigurationError('creatio_url must not carry a query string or a fragment', option='creatio_url',
                                 hint='give only the site root')
    path = parts.path.rstrip('/')
    if '0' in path.split('/'):
        raise ConfigurationError(
            'creatio_url must be the site root, not a path under /0/ (got %r)' % value, option='creatio_url',
            hint='drop "/0" and what follows: the collection adds the API paths itself')
    return urlunsplit((parts.scheme.lower(), _netloc(parts, 'creatio_url'), path, '', ''))


def identity_url_of(value):
    """The identity service root from creatio_identity_url (a pasted /connect/token is dropped)."""
    parts = _split(value, 'creatio_identity_url', 'use creatio_client_id and creatio_client_secret',
                   'use the value of the OAuth20IdentityServerUrl system setting')
    if parts.query or parts.fragment:
        raise ConfigurationError('creatio_identity_url must be an absolute http(s) URL, got %r' % value,
                                 option='creatio_identity_url',
                                 hint='use the value of the OAuth20IdentityServerUrl system setting')
    path = parts.path.rstrip('/')
    if path.endswith(api.TOKEN_PATH):
        path = path[:-len(api.TOKEN_PATH)]
    return urlunsplit((parts.scheme.lower(), _netloc(parts, 'creatio_identity_url'), path, '', ''))


def cloud_identity_url(site_url):
    parts = urlsplit(site_url)
    return api.default_identity_url(parts.scheme, parts.hostname)


def _split(value, option, userinfo_hint, example_hint):
    if '@' in value:
        # Anywhere, not only in the host part: a password holding "/", "?" or "#" moves the "@" into the
        # path. Checked first so that a password pasted into the URL is never echoed by a later message
        # (a site root or an identity service root never has an "@").
        raise ConfigurationError('%s must not contain a user name or password' % option, option=option, hint=userinfo_hint)
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname:
        raise ConfigurationError('%s must be an absolute http(s) URL, got %r' % (option, value), option=option,
                                 hint=example_hint)
    _check_host(parts, option)
    return parts


def _check_ca_bundle(ca_path):
    """A ca_path file that TLS cannot load would fail every request as "certificate verify failed": say what it is."""
    try:
        ssl.create_default_context(cafile=ca_path)
    except (ssl.SSLError, ValueError, IOError, OSError) as exc:
        raise ConfigurationError(
            'ca_path %s is not a usable PEM bundle: no certificate could be loaded from it (%s)'
            % (ca_path, getattr(exc, 'reason', None) or exc.__class__.__name__), option='ca_path',
            hint='give a file of PEM certificates ("-----BEGIN CERTIFICATE-----" blocks) with the CA that signed the '
                 'site\'s certificate, or a directory prepared with c_rehash')


def _check_host(parts, option):
    """Host names go to DNS and TLS as ASCII. A host with characters that stand for others (full-width digits of an
    address, say) is refused here, before the HTTP library fails on it without naming the option."""
    host = parts.hostname
    try:
        host.encode('ascii')
        return
    except UnicodeError:
        pass
    plain = unicodedata.normalize('NFKC', host)
    if plain != host:
        raise ConfigurationError('%s has a host name with characters that stand for others (%r)' % (option, host),
                                 option=option, hint='write the host name in plain characters: %s' % plain)
    try:
        host.encode('idna')
    except UnicodeError:
        raise ConfigurationError('%s has a host name that is not a valid internationalized domain name (%r)' % (option, host),
                                 option=option, hint='give its ASCII (xn--...) form')


def _netloc(parts, option):
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError('%s has an invalid port' % option, option=option)
    return netloc_of(parts, port)
