# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). CreatioClient: the OAuthConfigService call helper and the OData read helper.

Both go through one request path that logs in lazily, logs in again once and replays once when the
session is no longer accepted, and scrubs every secret it knows from any error it raises.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._auth import login_for, message_of, parse_json
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    MASK, AuthenticationError, BusinessError, ConfigurationError, CreatioError, HttpError, NotCreatioEndpointError, RecordNotFoundError,
    TransportError, UnreadableAnswerError)
from ansible_collections.creatio.oauth.plugins.module_utils._odata import ODataReads, kind_of, origin_of, origin_of_parts, scrubbed

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # noqa: F401

REDACTED = MASK

STATUS_HINTS = {
    401: 'the credentials were refused right after a good login: check that creatio_url is this site\'s root (a wrong '
         'virtual directory logs in to another application), then creatio_username/creatio_password or '
         'creatio_client_id/creatio_client_secret',
    403: 'the request was refused: a CSRF check (BPMCSRF) failed, or the user lacks the CanManageSolution '
         'system operation (OAuth integrations need an administrator)',
    404: 'not found: check creatio_url (the site root, keeping any virtual directory) and creatio_platform, that the '
         'OAuth 2.0 feature (OAuth20Integration) is installed on this site, and its version (AddRedirectUrls, '
         'UpdateRedirectUrl, DeleteRedirectUrl and CreateTechnicalUser need Creatio 8.3 or later)',
    429: 'Creatio is rate limiting: retry later, or lower the number of forks',
    500: 'Creatio failed internally: see its logs; a re-run is safe',
    502: 'a proxy in front of Creatio had no answer from it: a re-run is safe',
    503: 'Creatio is unavailable (maintenance, restart, overload): a re-run is safe',
    504: 'a proxy in front of Creatio timed out: a re-run is safe',
}


UNREADABLE_WRITE_HINT = ('something between the collection and Creatio (a gateway or proxy) replaced or changed its answer, '
                         'or this is not Creatio (wrong creatio_url, or a single sign-on page in front of it); a re-run is '
                         'safe: it reads Creatio back before it writes')


def business_hint(message):
    site_wide, hint = api.site_wide_kind(message)
    if site_wide:
        return hint
    if api.message_matches(message, api.MESSAGE_INVALID_SYSTEM_USER):
        return ('system_user_id must be the Id of an existing, active user record (not the Id of its contact); '
                'or name the user with system_user')
    if api.message_matches(message, api.MESSAGE_RECORD_NOT_FOUND):
        return 'the record is gone on the server: the facts cache is stale; a re-run with OData readable repairs it'
    return None


class CreatioClient(ODataReads):
    """Requests to one site, as the Connection value says: its URLs, its login, its TLS settings."""

    def __init__(self, connection, login, transport, session_store=None, api_path=None, on_api_path=None):
        self.connection = connection
        self.site_url = connection.site_url
        # Split once: the link of every OData page is compared with the site's origin.
        self.site_parts = urlsplit(self.site_url)
        self.site_origin = origin_of_parts(self.site_parts)
        self.login_method = login
        self.transport = transport
        self.session_store = session_store
        self._restored = False
        # Where the API lives: tried in this order until one answers like Creatio's API, then kept
        # for the run; ``on_api_path`` is told when that is not the first guess (to remember it).
        self._api_paths = connection.api_paths(api_path)
        self._api_path_confirmed = len(self._api_paths) == 1
        self._on_api_path = on_api_path
        self._openid = None
        self.openid_answered = False  # set by the first OpenID configuration read
        self._read_back = []  # client secrets read back from Creatio (GetClientSecret): scrubbed like the login's

    @classmethod
    def for_connection(cls, connection, api_path=None, on_api_path=None):
        # Imported here so that a module whose input fails validation never pays for importing requests.
        from ansible_collections.creatio.oauth.plugins.module_utils._session_store import SessionStore
        from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport
        store = SessionStore(connection.session_path) if connection.reuse_session else None
        return cls(connection, login_for(connection), HttpTransport.for_connection(connection), session_store=store,
                   api_path=api_path, on_api_path=on_api_path)

    @property
    def api_path(self):
        return self._api_paths[0]

    @property
    def api_root_url(self):
        return self.connection.api_url('', self.api_path) or self.site_url

    @property
    def platform(self):
        """'netframework' or 'netcore' once an API answer confirmed it, else None."""
        return api.PLATFORM_OF_ROOT[self.api_path] if self._api_path_confirmed else None

    # --- secrets -----------------------------------------------------------------------------
    def secrets(self):
        return [s for s in list(self.login_method.secrets()) + self._read_back if s and len(str(s)) >= 4]

    def keep_secret(self, secret):
        """A secret this run holds from now on (read back from Creatio): scrubbed from every error as the login's are."""
        if secret and secret not in self._read_back:
            self._read_back.append(secret)

    def scrub_error(self, exc):
        exc.redact(self.secrets(), REDACTED)

    # --- login -------------------------------------------------------------------------------
    def _ensure_login(self):
        if self.login_method.is_fresh():
            return
        if not self._restored and self.session_store is not None:
            self._restored = True
            state = self.session_store.load(self.site_url, self.login_method.identity, self.login_method.credential())
            if state:
                self.login_method.import_state(state)
                if self.login_method.is_fresh():
                    return
        self._login()

    def _login(self):
        self.login_method.invalidate()
        if self.login_method.kind == 'oauth' and not self.login_method.token_url:
            self.login_method.token_url = self.token_url(required_by='creatio_client_id')
        self.login_method.login(self.transport)
        if self.session_store is not None:
            self.session_store.save(self.site_url, self.login_method.identity, self.login_method.export_state(),
                                    self.login_method.credential())

    def _drop_session(self):
        self.login_method.invalidate()
        if self.session_store is not None:
            self.session_store.drop(self.site_url, self.login_method.identity)

    # --- one request path --------------------------------------------------------------------
    def _send(self, method, url, call, safe, **kwargs):
        """Authenticated request; one re-login and one replay when the session is refused.

        Replaying is right even for AddClient: 401, a login redirect and a CSRF 403 are all decided
        before Creatio runs the method, so the first request did nothing. An HTML page with HTTP 200
        is not: a gateway may have put it in place of the answer after Creatio ran the method.
        """
        self._ensure_login()
        headers = dict(kwargs.pop('headers', {}))
        for attempt in (1, 2):
            req_headers = dict(headers)
            req_headers.update(self.login_method.headers(method))
            response = self.transport.request(method, url, call=call, safe=safe, headers=req_headers, **kwargs)
            if attempt == 1 and self._session_refused(response, method, safe):
                self._drop_session()
                self._login()
                continue
            if response.status_code == 401 and self.login_method.kind == 'oauth':
                raise self._token_refused(call)
            # A second refusal right after a fresh login is not expiry: the caller classifies it.
            return response

    def _token_refused(self, call):
        """A 401 to a token just issued: not a missing permission, but a token of an identity service this site
        does not trust."""
        return AuthenticationError(
            '%s: the site %s refused the access token that %s issued to client %s (HTTP 401 right after a new token)'
            % (call, self.site_url, self.login_method.token_url, self.login_method.client_id), call=call, status=401,
            hint='the token comes from an identity service this site does not trust: set creatio_identity_url to this site\'s '
                 'own identity service (its OAuth20IdentityServerUrl system setting; on Creatio cloud the site host with -is)')

    def _api(self, method, path, call, safe, anonymous=False, **kwargs):
        """A request under the API root. While the root is not confirmed, an answer that shows no
        API there (404, a page that is not JSON, a redirect) is asked once more under the other root:
        nothing ran at a root without the API, so even AddClient is safe to send there."""
        send = self._send_anonymous if anonymous else self._send
        response = send(method, self.connection.api_url(path, self.api_path), call, safe, **kwargs)
        if self._api_path_confirmed:
            return response
        if not _no_api_here(response):
            self._confirm(self.api_path)
            return response
        for other in self._api_paths[1:]:
            second = send(method, self.connection.api_url(path, other), call, safe, **kwargs)
            if not _no_api_here(second):
                self._confirm(other)
                return second
        return response

    def _confirm(self, api_path):
        moved = api_path != self._api_paths[0]
        self._api_paths = [api_path]
        self._api_path_confirmed = True
        if moved and self._on_api_path is not None:
            self._on_api_path(api_path)

    def _send_anonymous(self, method, url, call, safe, **kwargs):
        return self.transport.request(method, url, call=call, safe=safe, **kwargs)

    # --- the identity service ------------------------------------------------------------------
    def token_url(self, required_by=None):
        """The identity service's token endpoint a run uses: given (Connection.given_token_url), else published by the
        site (its OpenID configuration, Creatio 8.3), else the Creatio cloud convention; None when
        none of them is known, or a ConfigurationError naming ``required_by`` when it is required."""
        if self.connection.given_token_url:
            return self.connection.given_token_url
        discovered = self.openid_configuration().get('token_endpoint')
        if discovered:
            refusal = self._foreign_endpoint(discovered)
            if refusal is None:
                return discovered
            if required_by:
                refusal.message = '%s; %s needs the token URL' % (refusal.message, required_by)
                refusal.args = (refusal.message,)
                raise refusal
            return None  # never a guess instead: it is only shown, and a refused endpoint is unknown
        if self.connection.cloud_token_url:
            return self.connection.cloud_token_url
        if required_by:
            raise ConfigurationError(
                'the token URL of the identity service is unknown: creatio_identity_url is not set, %s does not publish '
                'an OpenID configuration (Creatio before 8.3), and it is not a Creatio cloud site' % self.site_url,
                option='creatio_identity_url',
                hint='set creatio_identity_url (or CREATIO_IDENTITY_URL) to the OAuth20IdentityServerUrl system setting; '
                     '%s needs it' % required_by)
        return None

    def _foreign_endpoint(self, endpoint):
        """None when an endpoint the site published is on the site or on its identity service (the cloud
        convention), else the ConfigurationError that refuses it: what a site publishes never decides where a
        client secret goes, nor sends it over plain http from an https site."""
        trusted = [self.site_url] + ([self.connection.cloud_identity_url] if self.connection.cloud_identity_url else [])
        if origin_of(endpoint) in [origin_of(url) for url in trusted]:
            return None
        return ConfigurationError(
            'the OpenID configuration of %s names the token endpoint %s, which is neither on the site nor on its identity '
            'service (%s): the client secret is not sent there' % (self.site_url, endpoint.split('?', 1)[0], ' or '.join(trusted)),
            option='creatio_identity_url',
            hint='set creatio_identity_url (or CREATIO_IDENTITY_URL) to the identity service, over https (the '
                 'OAuth20IdentityServerUrl system setting); then the published endpoint is not used')

    def openid_configuration(self):
        """The site's OpenID configuration (anonymous, read once per run), or {} when it publishes none."""
        if self._openid is None:
            self._openid = self._read_openid_configuration()
        return self._openid

    def _read_openid_configuration(self):
        try:
            response = self._api('GET', api.OPENID_CONFIGURATION_PATH, 'OpenID configuration', True, anonymous=True,
                                 headers={'Accept': 'application/json'})
        except TransportError:
            return {}
        # An answer, not a failure: "publishes none" is then evidence (a 5xx or no answer is not).
        self.openid_answered = response.status_code < 500
        body = parse_json(response) if response.status_code == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get('token_endpoint'), str):
            return {}
        return body

    def _session_refused(self, response, method, safe=True):
        status = response.status_code
        if status == 401:
            return True
        if status in (301, 302, 303, 307, 308):
            location = (response.headers.get('Location') or '').lower()
            return any(marker in location for marker in api.LOGIN_PAGE_MARKERS)
        if status == 403 and self.login_method.kind == 'forms' and method.upper() != 'GET':
            # A stale BPMCSRF token; a lasting 403 (no permission) fails after the one replay.
            return True
        if status == 200 and safe and self.login_method.kind == 'forms' and parse_json(response) is None:
            # Some proxies turn the login redirect into a 200 HTML page. Only for a call that is safe to
            # repeat: after a write it may as well be a gateway's page in place of Creatio's answer, a
            # lost answer that the executor settles by reading back.
            return 'html' in (response.headers.get('Content-Type') or '').lower()
        return False

    # --- OAuthConfigService ------------------------------------------------------------------
    @scrubbed
    def call(self, method_name, payload):
        """Call one OAuthConfigService method with the inner request object; return the inner
        result. ``success: false`` raises BusinessError (RecordNotFoundError for a missing id)."""
        method = api.SERVICE_METHODS[method_name]
        response = self._api(
            'POST', api.SERVICE_PATH + method_name, method_name, method.safe_to_repeat,
            headers={'Content-Type': 'application/json; charset=utf-8', 'Accept': 'application/json'},
            json={method.parameter: payload} if method.parameter else payload)  # None: a bare body (api.SERVICE_METHODS)
        body = self._json_or_raise(response, method_name, write=True)
        result = api.unwrap_result(method_name, body)
        lowered = api.lower_keys(result)
        if not isinstance(lowered.get('success'), bool):
            # Every result carries success, a boolean (contract section 3): anything else is no
            # refusal, and Creatio may have carried the call out.
            raise UnreadableAnswerError(
                '%s was answered with a result whose success is %s, not true or false, so Creatio may have carried it out'
                % (method_name, kind_of(lowered.get('success')) if 'success' in lowered else 'missing'),
                call=method_name, status=response.status_code, hint=UNREADABLE_WRITE_HINT)
        if lowered.get('success') is not True:
            info = api.lower_keys(lowered.get('errorinfo'))
            message = info.get('message') or lowered.get('message') or 'success: false without a message'
            error_class = RecordNotFoundError if api.message_matches(message, api.MESSAGE_RECORD_NOT_FOUND) else BusinessError
            raise error_class(
                '%s was refused by Creatio' % method_name, call=method_name, status=response.status_code,
                creatio_message=str(message), hint=business_hint(message), error_code=info.get('errorcode'),
                site_wide=api.site_wide_kind(message)[0])
        return result

    @scrubbed
    def method_status(self, method_name):
        """The HTTP status a GET of an OAuthConfigService method answers after a good login (it takes
        POST only, so nothing runs: api.VERSION_PROBE_METHOD); None while the API root is unconfirmed."""
        response = self._api('GET', api.SERVICE_PATH + method_name, '%s (GET)' % method_name, True,
                             headers={'Accept': 'application/json'})
        return response.status_code if self.platform else None

    def logged_in(self):
        """Log in now (or reuse a stored session); raises like any request would."""
        try:
            self._ensure_login()
        except CreatioError as exc:
            self.scrub_error(exc)
            raise

    # --- answers -----------------------------------------------------------------------------
    def _json_or_raise(self, response, call, write=False):
        body = parse_json(response)
        status = response.status_code
        if 300 <= status < 400:
            raise NotCreatioEndpointError(
                '%s was redirected (to %s) right after a new login' % (call, response.headers.get('Location', '?').split('?', 1)[0]),
                call=call, status=status,
                hint='Creatio keeps sending its login page: check that creatio_url is the site root and that no single '
                     'sign-on page sits in front of it')
        if status < 200 or status >= 300:
            raise HttpError('%s failed' % call, call=call, status=status,
                            creatio_message=message_of(body), hint=STATUS_HINTS.get(status))
        if write and not isinstance(body, dict):
            raise UnreadableAnswerError(
                '%s was answered with HTTP %s and %s, not Creatio\'s JSON answer (not a Creatio API endpoint, or its answer '
                'was replaced on the way), so Creatio may have carried it out' % (call, status, 'a page' if body is None else kind_of(body)),
                call=call, status=status,
                hint=UNREADABLE_WRITE_HINT)
        if body is None or not isinstance(body, dict):
            raise NotCreatioEndpointError(
                '%s answered with something that is not JSON: not a Creatio API endpoint' % call, call=call,
                status=status, hint='wrong creatio_url, or a single sign-on page in front of it')
        return body


def _no_api_here(response):
    """An answer that says the API is not at this root (contract section 0: what the wrong root
    answers is not specified: 404, an HTML page, or a redirect to the login page)."""
    if response.status_code == 404 or 300 <= response.status_code < 400:
        return True
    return response.status_code == 200 and parse_json(response) is None
