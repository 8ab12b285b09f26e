# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). HTTP transport on requests: TLS settings, timeouts, and retries with backoff for safe calls."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random
import re
import time
import traceback

from ansible_collections.creatio.oauth.plugins.module_utils._errors import TLSError, TransportError

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests import exceptions as req_exc
    from http import cookiejar
    from urllib3 import exceptions as urllib3_exc
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None
    req_exc = None
    cookiejar = None
    urllib3_exc = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # noqa: F401

HAS_REQUESTS = requests is not None

# Retried for safe calls only. 500 too: a safe call is harmless to repeat, and Creatio's 500s are
# often transient (a deadlock, a restarting app pool).
RETRY_STATUSES = (429, 500, 502, 503, 504)

# Bytes asked for per read of a streamed body: between reads the deadline of the request is checked.
BODY_CHUNK = 65536


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

        Each attempt has a deadline of ``timeout`` seconds for the whole answer, body included:
        requests' own timeout bounds each read only, and a server that sends a byte now and then
        would hold the task for ever.
        """
        kwargs.setdefault('timeout', self.timeout)
        kwargs.setdefault('verify', self.verify)
        kwargs.setdefault('allow_redirects', False)
        kwargs['stream'] = True
        attempt = 0
        while True:
            deadline = time.time() + self.timeout
            try:
                response = self._session.request(method, url, **kwargs)
                _read_body(response, deadline)
            except req_exc.SSLError as exc:
                raise TLSError(
                    'TLS certificate verification failed for %s: %s' % (_origin(url), _reason(exc)),
                    call=call,
                    hint='give ca_path (a PEM bundle with the CA that signed the server certificate), '
                         'or set validate_certs: false for a test site only')
            except (req_exc.ConnectionError, req_exc.Timeout, _PastDeadline) as exc:
                never_sent = _never_sent(exc)
                if (safe or never_sent) and attempt + 1 < self.retry.attempts:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                raise TransportError(
                    '%s to %s failed: %s' % (call, _origin(url), _reason(exc, self.timeout)),
                    call=call,
                    may_have_reached_server=not never_sent,
                    timed_out=isinstance(exc, (req_exc.Timeout, _PastDeadline)) and not never_sent,
                    hint=_transport_hint(exc, self.timeout))
            except (req_exc.RequestException, UnicodeError) as exc:
                # A request this machine cannot even send (a header or URL that HTTP does not allow), or an
                # answer requests cannot take apart. The exception's own text may quote a header (a token):
                # only its class is told.
                unsendable = isinstance(exc, (UnicodeError, req_exc.InvalidHeader, req_exc.InvalidURL))
                raise TransportError(
                    '%s to %s failed: %s' % (call, _origin(url), 'the request cannot be sent (%s: a header or the URL holds '
                                             'characters HTTP does not allow)' % exc.__class__.__name__ if unsendable else
                                             'the answer could not be read (%s)' % exc.__class__.__name__),
                    call=call, may_have_reached_server=not unsendable,
                    hint='check creatio_url and creatio_identity_url' if unsendable else
                         'check that nothing between the controller and the site alters the answers')
            if safe and response.status_code in RETRY_STATUSES and attempt + 1 < self.retry.attempts:
                self._backoff(attempt, _retry_after_seconds(response))
                attempt += 1
                continue
            return response

    def _backoff(self, attempt, retry_after=None):
        self.retries_done += 1
        self._sleep(self.retry.delay(attempt, retry_after))


class _PastDeadline(Exception):
    """The answer did not come whole within the request's deadline."""


def _read_body(response, deadline):
    """Read the streamed body into the response (as requests would), stopping at ``deadline``. urllib3 2's
    read1 returns what has come so far, so a trickled body is noticed between reads; urllib3 1 reads whole
    chunks, so there the deadline is checked per chunk only."""
    if response._content is not False:
        return  # already read (a wrapped session in tests)
    raw = response.raw
    read_some = getattr(raw, 'read1', None)
    chunks = []
    try:
        while True:
            if time.time() > deadline:
                response.close()
                raise _PastDeadline()
            chunk = read_some(BODY_CHUNK, decode_content=True) if read_some else raw.read(BODY_CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
    except urllib3_exc.ReadTimeoutError as exc:
        raise req_exc.ReadTimeout(exc)
    except urllib3_exc.DecodeError as exc:
        raise req_exc.ContentDecodingError(exc)
    except (urllib3_exc.ProtocolError, urllib3_exc.SSLError, IOError) as exc:
        raise req_exc.ConnectionError(exc)
    response._content = b''.join(chunks)
    response._content_consumed = True
    raw.release_conn()


def _origin(url):
    # Never print a query string: it is not where secrets go, but it is noise in an error.
    return url.split('?', 1)[0]


def _never_sent(exc):
    if isinstance(exc, req_exc.ConnectTimeout):
        return True
    if isinstance(exc, req_exc.ConnectionError) and not isinstance(exc, req_exc.ReadTimeout):
        text = repr(exc)
        return any(marker in text for marker in ('NewConnectionError', 'Failed to establish a new connection',
                                                 'NameResolutionError', 'Failed to resolve'))
    return False


def _reason(exc, timeout=None):
    if isinstance(exc, _PastDeadline):
        return 'the answer did not come whole within request_timeout (%s s)' % timeout
    if isinstance(exc, req_exc.Timeout):
        return 'no answer within the timeout'
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    if 'NameResolutionError' in text or 'Failed to resolve' in text or 'Name or service not known' in text \
            or 'getaddrinfo failed' in text or 'nodename nor servname' in text:
        return 'the host name %s could not be resolved (DNS)' % _host(exc, text)
    if 'RemoteDisconnected' in text or 'Connection aborted' in text or 'Connection reset' in text:
        return 'the connection was closed before an answer came'
    if 'Failed to establish a new connection' in text or 'NewConnectionError' in text:
        return 'the connection could not be opened (nothing listens there, or a firewall refuses it)'
    if 'certificate verify failed' in text or 'CERTIFICATE_VERIFY_FAILED' in text:
        return 'certificate verify failed'
    return exc.__class__.__name__


def _host(exc, text):
    request = getattr(exc, 'request', None)
    if request is not None and getattr(request, 'url', None):
        return urlsplit(request.url).hostname
    match = re.search(r"host='([^']*)'", text)
    return match.group(1) if match else '(unknown)'


def _transport_hint(exc, timeout):
    if isinstance(exc, (req_exc.Timeout, _PastDeadline)):
        return 'Creatio did not answer within request_timeout (%s s): raise request_timeout, or check the site load' % timeout
    return 'check creatio_url / creatio_identity_url and that the site is reachable from the Ansible controller'
