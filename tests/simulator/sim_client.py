"""A tiny standard-library HTTP client for the simulator's own tests (not a test module)."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import creatio_simulator as cs  # pylint: disable=import-error


class Resp:
    """A received answer."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        """Body as JSON."""
        return json.loads(self.body)

    @property
    def text(self):
        """Body as text."""
        return self.body.decode('utf-8')

    @property
    def is_html(self):
        """True when the answer is an HTML page."""
        return (self.headers.get('Content-Type') or '').startswith('text/html')


class Client:
    """Cookie jar, BPMCSRF handling and one keep-alive connection to one simulated site."""

    def __init__(self, simulator, context=None):
        self.sim = simulator
        parts = urllib.parse.urlsplit(simulator.url)
        self.site = parts.path
        if parts.scheme == 'https':
            self.conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=5, context=context)
        else:
            self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        self.cookies = {}
        self.bearer = None

    @property
    def api(self):
        """Path of the site's API root now ({site}/0 or {site})."""
        return urllib.parse.urlsplit(self.sim.api_url).path

    def close(self):
        """Close the connection."""
        self.conn.close()

    def request(self, method, path, body=None, headers=None, csrf=True, cookies=True):
        """Send one request and read the answer."""
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault('Content-Type', 'application/json; charset=utf-8')
        if cookies and self.cookies:
            hdrs['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        if csrf and 'BPMCSRF' in self.cookies:
            hdrs.setdefault('BPMCSRF', self.cookies['BPMCSRF'])
        if self.bearer:
            hdrs['Authorization'] = f'Bearer {self.bearer}'
        self.conn.request(method, path, body=body, headers=hdrs)
        resp = self.conn.getresponse()
        payload = resp.read()
        for cookie in resp.headers.get_all('Set-Cookie') or []:
            name, _sep, rest = cookie.partition('=')
            self.cookies[name] = rest.split(';', 1)[0]
        return Resp(resp.status, resp.headers, payload)

    def login(self, user='Supervisor', password='Supervisor', path=None, headers=None):
        """Forms login."""
        hdrs = {'ForceUseSession': 'true'}
        hdrs.update(headers or {})
        return self.request('POST', path or f'{self.site}/ServiceModel/AuthService.svc/Login',
                            {'UserName': user, 'UserPassword': password}, hdrs, csrf=False)

    def call(self, method, inner, wrap=True, root=None, **kw):
        """OAuthConfigService call (under the current API root, or ``root``)."""
        param = cs.SERVICE_METHODS.get(method)
        body = {param: inner} if wrap and param else inner
        return self.request('POST', f'{self.api if root is None else root}/rest/OAuthConfigService/{method}', body, **kw)

    def odata(self, query='', entity='OAuthClientApp'):
        """OData read of an entity set."""
        return self.request('GET', f'{self.api}/odata/{entity}{query}')


def result(resp, method):
    """Unwrapped result of a 200 service answer."""
    assert resp.status == 200, resp.body
    return resp.json()[f'{method}Result']


def token_request(simulator, form, headers=None):
    """POST to the identity token endpoint."""
    parts = urllib.parse.urlsplit(simulator.identity_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    hdrs = {'Content-Type': 'application/x-www-form-urlencoded'}
    hdrs.update(headers or {})
    conn.request('POST', parts.path + '/connect/token', urllib.parse.urlencode(form), hdrs)
    resp = conn.getresponse()
    out = Resp(resp.status, resp.headers, resp.read())
    conn.close()
    return out


def fetch(url, method='GET', body=None, headers=None):
    """One request to an absolute URL on a fresh connection (no cookies)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    target = parts.path + (f'?{parts.query}' if parts.query else '')
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        hdrs.setdefault('Content-Type', 'application/json')
    conn.request(method, target, body=body, headers=hdrs)
    resp = conn.getresponse()
    out = Resp(resp.status, resp.headers, resp.read())
    conn.close()
    return out


def add_cc(cl, name='Svc', user=cs.POWERBI_USER_ID):
    """Create a client_credentials integration; return the result."""
    return result(cl.call('AddClient', {'name': name, 'applicationUrl': 'https://app.example.com',
                                        'grantType': 'client_credentials', 'systemUserId': user}), 'AddClient')


def add_code(cl, name='Web', redirect=None):
    """Create an authorization_code integration; return the result."""
    inner = {'name': name, 'applicationUrl': 'https://web.example.com', 'grantType': 'authorization_code'}
    if redirect:
        inner['redirectUrl'] = redirect
    return result(cl.call('AddClient', inner), 'AddClient')
