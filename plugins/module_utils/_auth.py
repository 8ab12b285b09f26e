# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The two ways to log in to Creatio: forms (cookies + BPMCSRF) and OAuth client credentials.

Each login object knows how to log in, how to decorate a request with its credentials, and which
values are secret (so the client can scrub them from any text). Neither keeps the password or the
client secret in its exportable state.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import time

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, HttpError, NotCreatioEndpointError)

STATE_CHANGING = ('POST', 'PUT', 'PATCH', 'DELETE')
# Renew a token this long before Creatio would refuse it, so a slow task does not cross expiry.
TOKEN_EXPIRY_MARGIN = 30


def parse_json(response):
    """The JSON body of a response, or None when it is not JSON (an HTML page, an empty body)."""
    ctype = (response.headers.get('Content-Type') or '').lower()
    if 'html' in ctype:
        return None
    try:
        return response.json()
    except ValueError:
        return None


class FormsLogin(object):
    kind = 'forms'

    def __init__(self, site_url, login_url, username, password):
        self.site_url = site_url
        self.login_url = login_url
        self.username = username
        self._password = password
        self.cookies = {}
        self.logged_in_at = None

    @property
    def identity(self):
        return 'forms:%s' % self.username

    def secrets(self):
        return [self._password] + list(self.cookies.values())

    def credential(self):
        return self._password

    def is_fresh(self):
        return bool(self.cookies)

    def login(self, transport):
        response = transport.request(
            'POST', self.login_url, call='Login', safe=True,
            headers={'Content-Type': 'application/json; charset=utf-8', 'ForceUseSession': 'true',
                     'Accept': 'application/json'},
            # A JSON encoder, never string formatting: passwords may hold quotes and backslashes.
            data=json.dumps({'UserName': self.username, 'UserPassword': self._password}).encode('utf-8'))
        body = parse_json(response)
        if response.status_code != 200:
            raise HttpError(
                'Login to %s failed' % self.site_url, call='Login', status=response.status_code,
                creatio_message=message_of(body),
                hint='creatio_url must be the site root (keep a virtual directory such as /CreatioApp, '
                     'without /0/)' if response.status_code == 404 else None)
        if body is None:
            raise NotCreatioEndpointError(
                'The login answer from %s is not JSON: this is not a Creatio API endpoint' % self.site_url,
                call='Login', status=response.status_code,
                hint='wrong creatio_url, or a single sign-on page in front of it')
        lowered = api.lower_keys(body)
        if lowered.get('code') != 0:
            reason = lowered.get('message') or api.lower_keys(lowered.get('exception')).get('message')
            raise AuthenticationError(
                'Creatio refused the login of user %s' % self.username, call='Login',
                status=response.status_code, creatio_message=reason,
                hint='check creatio_username and creatio_password (technical users cannot log in with a password: '
                     'use creatio_client_id and creatio_client_secret for them)')
        self.cookies = dict((c.name, c.value) for c in response.cookies)
        if 'BPMCSRF' not in self.cookies:
            # Demo sites with CSRF checking off may not set it; state-changing calls then go without.
            self.cookies.setdefault('BPMCSRF', '')
        self.logged_in_at = time.time()

    def headers(self, method):
        headers = {}
        if self.cookies:
            headers['Cookie'] = '; '.join('%s=%s' % kv for kv in sorted(self.cookies.items()))
            if method.upper() in STATE_CHANGING and self.cookies.get('BPMCSRF'):
                headers['BPMCSRF'] = self.cookies['BPMCSRF']
        return headers

    def invalidate(self):
        self.cookies = {}

    def export_state(self):
        return {'kind': self.kind, 'cookies': dict(self.cookies), 'logged_in_at': self.logged_in_at}

    def import_state(self, state):
        if state.get('kind') == self.kind and isinstance(state.get('cookies'), dict):
            self.cookies = dict(state['cookies'])
            self.logged_in_at = state.get('logged_in_at')


class ClientCredentialsLogin(object):
    kind = 'oauth'

    def __init__(self, token_url, client_id, client_secret):
        self.token_url = token_url  # None until the client has worked it out (given, discovered or the cloud convention)
        self.client_id = client_id
        self._client_secret = client_secret
        self.token = None
        self.expires_at = 0

    @property
    def identity(self):
        return 'oauth:%s' % self.client_id

    def secrets(self):
        return [self._client_secret] + ([self.token] if self.token else [])

    def credential(self):
        return self._client_secret

    def is_fresh(self):
        return bool(self.token) and time.time() < self.expires_at - TOKEN_EXPIRY_MARGIN

    def login(self, transport):
        response = transport.request(
            'POST', self.token_url, call='Token', safe=True,
            headers={'Accept': 'application/json'},
            data={'grant_type': 'client_credentials', 'client_id': self.client_id,
                  'client_secret': self._client_secret})
        body = parse_json(response)
        if response.status_code >= 500:
            # An outage often answers with a proxy's HTML page: say what happened, not "wrong URL".
            raise HttpError(
                'The identity service at %s answered HTTP %s' % (_identity_root(self.token_url), response.status_code), call='Token',
                status=response.status_code, creatio_message=message_of(body),
                hint='the identity service is down or failing; re-run when it is back (a re-run is safe)')
        if body is None:
            raise NotCreatioEndpointError(
                'The token answer from %s is not JSON: this is not a Creatio identity service' % _identity_root(self.token_url),
                call='Token', status=response.status_code,
                hint='check creatio_identity_url (the OAuth20IdentityServerUrl system setting)')
        lowered = api.lower_keys(body)
        if response.status_code == 400 and lowered.get(api.TOKEN_ERROR_KEY):
            raise AuthenticationError(
                'The identity service refused client %s' % self.client_id, call='Token',
                status=response.status_code, creatio_message=str(lowered.get(api.TOKEN_ERROR_KEY)),
                hint='check creatio_client_id and creatio_client_secret; the integration must be active and use '
                     'the client_credentials grant')
        if response.status_code != 200 or not lowered.get('access_token'):
            raise HttpError(
                'No access token from the identity service at %s' % _identity_root(self.token_url), call='Token',
                status=response.status_code, creatio_message=message_of(body),
                hint='check creatio_identity_url; a 5xx means the identity service is down')
        if not _sendable_in_header(lowered['access_token']):
            # Checked here, not left to the HTTP library: its error would quote the header, token included.
            raise NotCreatioEndpointError(
                'The identity service at %s answered an access token that cannot be sent in an HTTP header (not a text of '
                'printable ASCII characters)' % _identity_root(self.token_url), call='Token', status=response.status_code,
                hint='check creatio_identity_url: it must be the Creatio identity service of this site (the '
                     'OAuth20IdentityServerUrl system setting)')
        self.token = lowered['access_token']
        try:
            lifetime = int(lowered.get('expires_in') or 3600)
        except (TypeError, ValueError):
            lifetime = 3600
        self.expires_at = time.time() + lifetime

    def headers(self, method):
        return {'Authorization': 'Bearer %s' % self.token} if self.token else {}

    def invalidate(self):
        self.token = None
        self.expires_at = 0

    def export_state(self):
        return {'kind': self.kind, 'token': self.token, 'expires_at': self.expires_at}

    def import_state(self, state):
        if state.get('kind') == self.kind and state.get('token'):
            self.token = state['token']
            self.expires_at = float(state.get('expires_at') or 0)


def login_for(connection):
    """The login method a Connection names."""
    if connection.login_kind == 'oauth':
        return ClientCredentialsLogin(connection.given_token_url, connection.client_id, connection.client_secret)
    return FormsLogin(connection.site_url, connection.login_url, connection.username, connection.password)


def _sendable_in_header(value):
    """An access token goes into the Authorization header: printable ASCII only (RFC 6750's b64token is narrower)."""
    try:
        return isinstance(value, str) and bool(value) and all(33 <= ord(c) < 127 for c in value)
    except TypeError:  # pragma: no cover
        return False


def _identity_root(token_url):
    return token_url[:-len(api.TOKEN_PATH)] if token_url and token_url.endswith(api.TOKEN_PATH) else token_url


def message_of(body):
    """Creatio's own message from whichever error shape it used."""
    lowered = api.lower_keys(body)
    for key in ('message', 'error_description', 'error'):
        value = lowered.get(key)
        if isinstance(value, dict):
            value = api.lower_keys(value).get('message')
        if value:
            return str(value)
    info = api.lower_keys(lowered.get('errorinfo'))
    return info.get('message') or None
