# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Whether one redirect URI is registered for a client,
asked of the identity service's authorization endpoint (API assumption: api.AUTHORIZE_*): the evidence
on a site that does not list redirect URIs (no readable redirect-URI entity).

The probe is a plain GET that changes nothing. It goes out on a transport of its own, so no session
cookie, token or secret ever goes with it, and only to an endpoint on the site's or the identity
service's scheme and host (what the site publishes is data: it never decides where a request goes).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import os

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._odata import origin_of_parts
from ansible_collections.creatio.oauth.plugins.module_utils._records import RedirectUri

try:
    from urllib.parse import urlencode, urlsplit
except ImportError:  # pragma: no cover
    from urllib import urlencode  # noqa: F401
    from urlparse import urlsplit  # noqa: F401

CALL = 'authorization endpoint'
SITE_CHECK_URI = 'https://creatio-oauth-site-check.invalid/callback'  # never registered anywhere (.invalid)


class AuthorizeProbe(object):
    """The authorization endpoint of one module run; found on first need, and given up on for the
    rest of the run after an answer that says nothing (no guess is made from it).

    ``lazy_client``: a callable giving the run's CreatioClient (built on first need), for the site's OpenID
    configuration; ``connection``: the Connection, whose origins bound where the endpoint may be; ``new_transport``:
    a callable giving a bare transport of the run's TLS settings, one per question."""

    def __init__(self, lazy_client, connection, new_transport):
        self.lazy_client = lazy_client
        self.connection = connection
        self.new_transport = new_transport
        self._endpoint = None  # '' once looked for and not usable
        self.why_not = None  # why there is no usable endpoint, for the site check and the warnings
        self.silent = False  # it answered something that is no verdict: not asked again in this run
        self._calibrated = set()  # client ids for which a URI registered nowhere was answered "not registered"

    def endpoint(self):
        if self._endpoint is None:
            self._endpoint = self._usable_endpoint() or ''
        return self._endpoint or None

    def _usable_endpoint(self):
        try:
            listed = self.lazy_client().openid_configuration().get(api.AUTHORIZE_ENDPOINT_KEY)
        except CreatioError:
            listed = None
        if not isinstance(listed, str) or not listed:
            self.why_not = 'the site\'s OpenID configuration lists no %s' % api.AUTHORIZE_ENDPOINT_KEY
            return None
        refusal = endpoint_refusal(listed, self.connection)
        if refusal:
            self.why_not = refusal
            return None
        return listed

    def registered(self, client_id, url):
        """True (registered for the client), False (not registered), None (cannot tell)."""
        endpoint = self.endpoint()
        if endpoint is None or self.silent or not client_id or not url:
            return None
        if client_id not in self._calibrated:
            # A redirect means "registered" only where this client's unregistered URIs get the error page: an
            # identity service that redirects its errors to a page of its own would otherwise make every URI look
            # registered. So a URI registered nowhere is asked first, once per client and run.
            if self._verdict(endpoint, client_id, SITE_CHECK_URI) is not False:
                if not self.silent:
                    self.silent = True
                    self.why_not = ('%s %s did not answer "not registered" for a redirect URI registered nowhere, so its '
                                    'answers cannot be told apart' % (CALL, endpoint))
                return None
            self._calibrated.add(client_id)
        return self._verdict(endpoint, client_id, url)

    def _verdict(self, endpoint, client_id, url):
        try:
            response = self._ask(endpoint, client_id, url)
        except CreatioError as exc:
            self.silent = True
            self.why_not = '%s %s did not answer (%s)' % (CALL, endpoint, exc.message)
            return None
        verdict = verdict_of(response.status_code, response.headers.get('Location'), response.text, endpoint, url)
        if verdict is None:
            self.silent = True
            self.why_not = '%s %s answered HTTP %s, which says nothing about a redirect URI' % (CALL, endpoint, response.status_code)
        return verdict

    def check(self):
        """(True, False or None, detail) for the site check: does the endpoint answer, and refuse a made-up client?"""
        endpoint = self.endpoint()
        if endpoint is None:
            return None, self.why_not
        try:
            response = self._ask(endpoint, binascii.hexlify(os.urandom(16)).decode('ascii').upper(), SITE_CHECK_URI)
        except CreatioError as exc:
            return False, '%s: %s' % (endpoint, exc.message)
        text = (response.text or '').lower()
        if response.status_code == 400 and any(marker in text for marker in api.AUTHORIZE_UNKNOWN_CLIENT_MARKERS):
            return True, ('%s answers, and refused a made-up client (HTTP 400 naming %s): redirect URIs are checked there '
                          'where the site does not list them' % (endpoint, ' or '.join(api.AUTHORIZE_UNKNOWN_CLIENT_MARKERS)))
        return False, ('%s answered HTTP %s to a made-up client, not the assumed error page: it is not used'
                       % (endpoint, response.status_code))

    def _ask(self, endpoint, client_id, url):
        query = urlencode([('client_id', client_id), ('redirect_uri', url), ('response_type', 'code'),
                           ('scope', api.AUTHORIZE_PROBE_SCOPE)])
        transport = self.new_transport()  # its own: an empty cookie jar, no Authorization header
        try:
            return transport.request('GET', endpoint + ('&' if '?' in endpoint else '?') + query, call=CALL, safe=True,
                                     headers={'Accept': 'text/html'})
        finally:
            transport.close()

    def registered_of(self, client_id, urls):
        """{url: True/False} for every one of ``urls``, or None when any of them cannot be told."""
        found = {}
        for url in urls:
            verdict = self.registered(client_id, url)
            if verdict is None:
                return None
            found[url] = verdict
        return found


def endpoint_refusal(endpoint, connection):
    """Why ``endpoint`` may not be asked (a text), or None: it must be http(s) on the scheme and host of
    the site or of the identity service (given, or the cloud convention), and never http from an https site."""
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        return 'the listed %s %r is not a URL' % (api.AUTHORIZE_ENDPOINT_KEY, endpoint)
    site = urlsplit(connection.site_url)
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname or parts.username or parts.password:
        return 'the listed %s %r is not a plain http(s) URL' % (api.AUTHORIZE_ENDPOINT_KEY, endpoint)
    if site.scheme.lower() == 'https' and parts.scheme.lower() != 'https':
        return 'the listed %s %s is http on an https site: refused' % (api.AUTHORIZE_ENDPOINT_KEY, endpoint)
    allowed = [origin_of_parts(urlsplit(u)) for u in (connection.site_url, connection.identity_url, connection.cloud_identity_url) if u]
    if origin_of_parts(parts) not in allowed:
        return ('the listed %s %s is on neither the site\'s nor the identity service\'s scheme and host: refused (set '
                'creatio_identity_url if the identity service lives there)' % (api.AUTHORIZE_ENDPOINT_KEY, endpoint))
    return None


def verdict_of(status, location, body, endpoint, url):
    """What one answer of the authorization endpoint says of ``url`` (see api.AUTHORIZE_*)."""
    text = (body or '').lower()
    if status == 400:
        if any(marker in text for marker in api.AUTHORIZE_UNKNOWN_CLIENT_MARKERS):
            return None  # the client itself is refused (unknown, disabled): its URIs cannot be told
        if api.AUTHORIZE_BAD_REDIRECT_MARKER in text:
            return False
        return None
    if status in (301, 302, 303, 307, 308) and location:
        # Only a registered URI is redirected to, and the login page is the identity service's own; a
        # redirect anywhere else (a single sign-on page in front of it) is no verdict.
        target = urlsplit(location)
        if not target.netloc or origin_of_parts(target) == origin_of_parts(urlsplit(endpoint)) or location.startswith(url):
            return True
    return None


def settle_declared(run, record, declared):
    """The redirect URI list of ``record`` (an authorization code client the site lists no rows of)
    checked against the authorization endpoint for the ``declared`` URIs: the cache's rows whose URI
    is not registered are dropped, registered URIs the cache lacks are added without an id. Unchanged
    (None stays None) when the endpoint cannot tell for every declared URI."""
    if not declared or record.grant_type != 'authorization_code' or not record.client_id:
        return record
    found = run.facts.authorize_probe().registered_of(record.client_id, declared)
    if found is None:
        return record
    rows = [r for r in record.redirect_urls or [] if found.get(r.url, True)]
    rows += [RedirectUri(url) for url in declared if found[url] and url not in [r.url for r in rows]]
    if record.redirect_urls is not None and set(record.known_urls()) != set(r.url for r in rows):
        run.warn('integration %r: the facts cache had the redirect URIs %s; the identity service\'s authorization endpoint '
                 'shows %s registered and %s not: that is taken' % (
                     record.name, sorted(record.known_urls()) or 'none', sorted(u for u in declared if found[u]) or 'none',
                     sorted(u for u in declared if not found[u]) or 'none'))
    record.redirect_urls = rows
    return record
