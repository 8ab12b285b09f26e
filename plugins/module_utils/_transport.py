# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). HTTP transport on requests: TLS settings, timeouts, and retries with backoff for safe calls."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random
import time
import traceback

from ansible_collections.creatio.oauth.plugins.module_utils._errors import TLSError, TransportError

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests import exceptions as req_exc
    from http import cookiejar
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None
    req_exc = None
    cookiejar = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

HAS_REQUESTS = requests is not None

# Retried for safe calls only. 500 too: a safe call is harmless to repeat, and Creatio's 500s are
# often transient (a deadlock, a restarting app pool).
RETRY_STATUSES = (429, 500, 502, 503, 504)


class RetryPolicy(object):
    """Exponential backoff with full jitter; Retry-After wins when the server sends one."""

    def __init__(self, attempts=4, base_delay=0.5, max_delay=8.0, max_retry_after=60.0):
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** attempt)))


def _retry_after_seconds(response):
    value = response.headers.get('Retry-After') if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


if HAS_REQUESTS:
    class _RejectAllCookies(cookiejar.DefaultCookiePolicy):
        """The session jar stays empty: authentication state lives in auth.py, which sends exactly
        the cookies it means to, and can hand them to the session store."""

        def set_ok(self, cookie, request):
            return False


class HttpTransport(object):
    """One requests.Session per module run. ``request`` raises TransportError/TLSError for answers
    that never came and returns the response for everything else (the caller reads statuses)."""

    def __init__(self, timeout=30, verify=True, retry=None, sleep=time.sleep):
        self.timeout = timeout
        self.verify = verify  # requests' verify: a CA bundle path, or whether to check certificates
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = requests.Session()
        self._session.cookies.set_policy(_RejectAllCookies())
        self._session.trust_env = True  # proxies from the environment, as users expect
        self.retries_done = 0

    @classmethod
    def for_connection(cls, connection):
        return cls(timeout=connection.timeout, verify=connection.verify)

    def close(self):
        self._session.close()

    def request(self, method, url, call, safe, **kwargs):
        """Send once, or up to ``retry.attempts`` times when ``safe``.

        Unsafe calls are retried only when the request certainly never left this machine (the
        connection could not be opened): then nothing can have happened on the server.
        """
        kwargs.setdefault('timeout', self.timeout)
        kwargs.setdefault('verify', self.verify)
        kwargs.setdefault('allow_redirects', False)
        attempt = 0
        while True:
            try:
                response = self._session.request(method, url, **kwargs)
            except req_exc.SSLError as exc:
                raise TLSError(
                    'TLS certificate verification failed for %s: %s' % (_origin(url), _reason(exc)),
                    call=call,
                    hint='give ca_path (a PEM bundle with the CA that signed the server certificate), '
                         'or set validate_certs: false for a test site only')
            except (req_exc.ConnectionError, req_exc.Timeout) as exc:
                never_sent = _never_sent(exc)
                if (safe or never_sent) and attempt + 1 < self.retry.attempts:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                raise TransportError(
                    '%s to %s failed: %s' % (call, _origin(url), _reason(exc)),
                    call=call,
                    may_have_reached_server=not never_sent,
                    timed_out=isinstance(exc, req_exc.Timeout) and not never_sent,
                    hint=_transport_hint(exc, self.timeout))
            if safe and response.status_code in RETRY_STATUSES and attempt + 1 < self.retry.attempts:
                self._backoff(attempt, _retry_after_seconds(response))
                attempt += 1
                continue
            return response

    def _backoff(self, attempt, retry_after=None):
        self.retries_done += 1
        self._sleep(self.retry.delay(attempt, retry_after))


def _origin(url):
    # Never print a query string: it is not where secrets go, but it is noise in an error.
    return url.split('?', 1)[0]


def _never_sent(exc):
    if isinstance(exc, req_exc.ConnectTimeout):
        return True
    if isinstance(exc, req_exc.ConnectionError) and not isinstance(exc, req_exc.ReadTimeout):
        text = repr(exc)
        return 'NewConnectionError' in text or 'Failed to establish a new connection' in text
    return False


def _reason(exc):
    if isinstance(exc, req_exc.Timeout):
        return 'no answer within the timeout'
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    if 'RemoteDisconnected' in text or 'Connection aborted' in text or 'Connection reset' in text:
        return 'the connection was closed before an answer came'
    if 'Failed to establish a new connection' in text or 'NewConnectionError' in text:
        return 'the connection could not be opened (nothing listens there, or a firewall refuses it)'
    if 'certificate verify failed' in text or 'CERTIFICATE_VERIFY_FAILED' in text:
        return 'certificate verify failed'
    return exc.__class__.__name__


def _transport_hint(exc, timeout):
    if isinstance(exc, req_exc.Timeout):
        return 'Creatio did not answer within request_timeout (%s s): raise request_timeout, or check the site load' % timeout
    return 'check creatio_url / creatio_identity_url and that the site is reachable from the Ansible controller'
