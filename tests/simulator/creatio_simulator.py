#!/usr/bin/env python
"""Strict simulator of the Creatio OAuth 2.0 integration API (standard library only).

The binding specification is docs/dev/design.md, section "The simulator";
the wire contract is the project's creatio-api.md (sections 1 to 4).
"""

from __future__ import annotations

# pylint: disable=too-many-lines

import argparse
import base64
import copy
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

# ---------------------------------------------------------------- seeded data

SUPERVISOR_ID = '410006e1-ca4e-4502-a9ec-e54d922d2c00'
POWERBI_USER_ID = '6f1c0b1e-7a5d-4a43-9d0b-2c1e0a9b8f01'
WEBHOOK_USER_ID = '0d5a3e22-4c1b-4f7e-8a66-3b9f2d7c5e02'
VIEWER_ID = '2b8e7c44-1d3f-4a59-b0c2-9e6f5a4d3c03'

AUTOMATION_CLIENT_NAME = 'Ansible automation'
AUTOMATION_CLIENT_ID = '0123456789abcdef0123456789abcdef'
AUTOMATION_CLIENT_SECRET = 'automation-secret'
AUTOMATION_RECORD_ID = 'c5a7e3f1-2b4d-4e6f-8a9b-0c1d2e3f4a50'

USERS = (
    {'id': SUPERVISOR_ID, 'name': 'Supervisor', 'password': 'Supervisor', 'admin': True, 'technical': False},
    {'id': POWERBI_USER_ID, 'name': 'PowerBIUser', 'password': None, 'admin': False, 'technical': True},
    {'id': WEBHOOK_USER_ID, 'name': 'WebhookUser', 'password': None, 'admin': False, 'technical': True},
    {'id': VIEWER_ID, 'name': 'Viewer', 'password': 'Viewer', 'admin': False, 'technical': False},
)

# ---------------------------------------------------------------- messages

MSG_BAD_LOGIN = 'Either user name or password is incorrect.'
MSG_NO_RECORD = 'Record with specified Id does not exist.'
MSG_BAD_USER = 'Specified system user is not valid.'
# IIS's default request filtering (maxQueryString), which the collection assumes (its API assumption 14).
MAX_QUERY_STRING = 2048
MSG_FEATURE_OFF = 'OAuth 2.0 integration is disabled. Enable the OAuth20Integration feature.'
MSG_IDENTITY_DOWN = 'Identity service is unavailable.'
MSG_NO_RIGHTS = 'You do not have permission to perform the "CanManageSolution" operation.'
MSG_AUTH_FAILED = 'Authentication failed.'

SERVICE_METHODS = {
    'AddClient': 'addClientRequest',
    'AddRedirectUrls': 'redirectUrlsRequest',
    'UpdateRedirectUrl': 'updateRedirectUrlRequest',
    'DeleteRedirectUrl': 'deleteRedirectUrlRequest',
    'UpdateClient': 'updateClientRequest',
    'DeleteClient': 'deleteClientRequest',
}
GRANT_CC = 'client_credentials'
GRANT_CODE = 'authorization_code'
ENDPOINTS = ('Login', 'Token') + tuple(SERVICE_METHODS) + ('OData', 'LoginPage', 'Other')
FAULT_ENDPOINTS = ('Login', 'Token') + tuple(SERVICE_METHODS) + ('OData',)
ODATA_COLUMNS = ('Id', 'Name', 'ClientId', 'ApplicationUrl', 'RedirectUrl', 'IsActive', 'SystemUserId')
ODATA_FILTER_FIELDS = {'Name': 'name', 'ClientId': 'clientId'}
WRITE_METHODS = ('POST', 'PUT', 'PATCH', 'DELETE')
MAX_BODY = 1024 * 1024

DEFAULT_CONFIG = {
    'csrf': True,
    'oauth_feature': True,
    'identity_up': True,
    'admin_rights': True,
    'odata_status': None,
    'session_expiry': 'json',
    'faults': [],
}
FAULT_KEYS = ('endpoint', 'status', 'count', 'retry_after', 'delay', 'drop', 'phase')

_CLAUSE_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+eq\s+'((?:[^']|'')*)'(\s*)")
_OR_RE = re.compile(r'or\s+')

LOGIN_PAGE = (b'<!DOCTYPE html>\n<html><head><title>Creatio</title></head>'
              b'<body><form id="loginForm"><input name="UserName"/><input name="UserPassword" type="password"/>'
              b'</form></body></html>\n')
NOT_FOUND_PAGE = b'<!DOCTYPE html>\n<html><head><title>404 - Not found</title></head><body><h1>Not found</h1></body></html>\n'


def is_loopback(address):
    """Return True when a client address is a loopback address (127.0.0.0/8, ::1)."""
    try:
        ip = ipaddress.ip_address(str(address).split('%', 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def normalize_site_path(site_path):
    """'/' -> '', 'CreatioApp/' -> '/CreatioApp'."""
    path = (site_path or '/').strip()
    if '?' in path or '#' in path or ' ' in path:
        raise ValueError(f'invalid site path: {site_path!r}')
    path = '/' + path.strip('/')
    return '' if path == '/' else path


def _canonical_guid(value):
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def _parse_filter(text):
    """Parse "Name eq 'a' or ClientId eq 'b'" into [(field, value)]; raise ValueError."""
    clauses = []
    pos = 0
    while True:
        match = _CLAUSE_RE.match(text, pos)
        if not match:
            raise ValueError(f"Syntax error at position {pos} in '{text}'.")
        field = match.group(1)
        if field not in ODATA_FILTER_FIELDS:
            raise ValueError(f"Could not find a property named '{field}' on type 'OAuthClientApp' usable in $filter.")
        clauses.append((field, match.group(2).replace("''", "'")))
        pos = match.end()
        if pos == len(text):
            return clauses
        more = _OR_RE.match(text, pos)
        if not match.group(3) or not more:
            raise ValueError(f"Syntax error at position {pos} in '{text}'.")
        pos = more.end()


def _parse_cookies(headers):
    cookies = {}
    for header in headers.get_all('Cookie') or []:
        for part in header.split(';'):
            name, sep, value = part.strip().partition('=')
            if sep and name:
                cookies.setdefault(name, value.strip().strip('"'))
    return cookies


def _media_type(headers):
    return (headers.get('Content-Type') or '').split(';', 1)[0].strip().lower()


def _load_json(body):
    try:
        return json.loads(body.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return None


class _Reply:
    """An HTTP answer (or a dropped connection when drop is True)."""

    def __init__(self, status, body=b'', ctype='application/json; charset=utf-8', headers=None, drop=False):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.drop = drop


def _json(status, document, headers=None):
    return _Reply(status, json.dumps(document).encode('utf-8'), headers=headers)


def _html(status, body, headers=None):
    return _Reply(status, body, 'text/html; charset=utf-8', headers)


def _wcf_error(status, message, exc_type='System.ServiceModel.Web.WebFaultException'):
    return _json(status, {'Message': message, 'StackTrace': None, 'ExceptionType': exc_type})


def _odata_error(status, message):
    return _json(status, {'error': {'code': '', 'message': message}})


class _BadRequest(Exception):
    """A request body member has the wrong JSON type (HTTP 400)."""


class _Fail(Exception):
    """A business error (HTTP 200, success false)."""

    def __init__(self, message, code='ArgumentException'):
        super().__init__(message)
        self.message = message
        self.code = code


def _get_str(inner, key):
    value = inner.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadRequest(f'Member "{key}" must be a string.')
    return value


def _required(inner, key):
    value = _get_str(inner, key)
    if value is None or not value.strip():
        raise _Fail(f'Parameter "{key}" is required.', 'ArgumentNullOrEmptyException')
    return value


class _Ctx:
    """Per-request facts used by the endpoint handlers and by the log."""

    def __init__(self, handler, path, query, body):
        self.method = handler.command
        self.target = handler.path
        self.path = path
        self.query = query
        self.headers = handler.headers
        self.body = body
        self.endpoint = 'Other'
        self.kind = 'other'
        self.auth = 'none'
        self.user = None
        self.session = None
        self.csrf = None
        self.base = handler.base_url()


class Simulator:
    """A strict Creatio simulator served on a background thread."""

    def __init__(self, host='127.0.0.1', port=0, site_path='/', csrf=True, tls_cert=None, tls_key=None,
                 token_ttl=3600, odata_page_size=100, verbose=False):
        self.host = host
        self.port = int(port)
        self.site_path = normalize_site_path(site_path)
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.token_ttl = int(token_ttl)
        self.odata_page_size = max(1, int(odata_page_size))
        self.verbose = verbose
        self._csrf_default = bool(csrf)
        self._lock = threading.RLock()
        self._server = None
        self._thread = None
        self._scope = 'ApplicationAccess_' + uuid.uuid4().hex
        self._seq = 0
        self._log = []
        self._config = {}
        self._clients = []
        self._secrets = {}
        self._sessions = {}
        self._tokens = {}
        self._reset_locked()

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def scheme(self):
        """'https' when TLS is configured, else 'http'."""
        return 'https' if self.tls_cert else 'http'

    def _host_port(self):
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{host}:{self.port}'

    @property
    def url(self):
        """Creatio root URL, site path included, no trailing slash."""
        return f'{self.scheme}://{self._host_port()}{self.site_path}'

    @property
    def identity_url(self):
        """Identity service root URL (token endpoint is {identity_url}/connect/token)."""
        return f'{self.scheme}://{self._host_port()}/identity'

    def start(self):
        """Bind, listen and serve on a daemon thread; return once listening."""
        if self._server is not None:
            return self
        context = None
        if self.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls_cert, self.tls_key)
        server_class = _Server6 if ':' in self.host else _Server
        self._server = server_class((self.host, self.port), _Handler, self, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
                                        name='creatio-simulator', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close the listening socket and every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # ------------------------------------------------------------ python API (same as admin API)

    def state(self):
        """Clients (never a secret), users and config."""
        with self._lock:
            return {
                'clients': copy.deepcopy(self._clients),
                'users': [{k: u[k] for k in ('id', 'name', 'admin', 'technical')} for u in USERS],
                'config': copy.deepcopy(self._config),
                'sessions': len(self._sessions),
                'tokens': len(self._tokens),
            }

    def log(self):
        """The request log (list of dicts)."""
        with self._lock:
            return copy.deepcopy(self._log)

    def clear_log(self):
        """Empty the request log."""
        with self._lock:
            self._log = []

    def configure(self, **kwargs):
        """Change switches; raise ValueError on an unknown key or a bad value. Return the config."""
        with self._lock:
            new = copy.deepcopy(self._config)
            for key, value in kwargs.items():
                if key in ('csrf', 'oauth_feature', 'identity_up', 'admin_rights'):
                    if not isinstance(value, bool):
                        raise ValueError(f'{key} must be a boolean')
                elif key == 'odata_status':
                    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599):
                        raise ValueError('odata_status must be null or an HTTP error status')
                elif key == 'session_expiry':
                    if value not in ('json', 'html'):
                        raise ValueError('session_expiry must be "json" or "html"')
                elif key == 'faults':
                    value = [self._check_fault(f) for f in (value or [])]
                else:
                    raise ValueError(f'unknown configuration key: {key}')
                new[key] = value
            self._config = new
            return copy.deepcopy(new)

    @staticmethod
    def _check_fault(fault):
        if not isinstance(fault, dict):
            raise ValueError('a fault must be an object')
        unknown = set(fault) - set(FAULT_KEYS)
        if unknown:
            raise ValueError(f'unknown fault keys: {sorted(unknown)}')
        endpoint = fault.get('endpoint', '*')
        if endpoint != '*' and endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f'unknown fault endpoint: {endpoint}')
        delay = fault.get('delay', 0) or 0
        drop = fault.get('drop', False)
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
            raise ValueError('delay must be a number >= 0')
        if not isinstance(drop, bool):
            raise ValueError('drop must be a boolean')
        if 'status' in fault:
            status = fault['status']
        else:
            status = None if (delay and not drop) else 503
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError('status must be null or an HTTP status')
        count = fault.get('count', 1)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise ValueError('count must be null (unlimited) or an integer >= 0')
        retry_after = fault.get('retry_after')
        if retry_after is not None and not isinstance(retry_after, (int, str)):
            raise ValueError('retry_after must be null, an integer or a string')
        phase = fault.get('phase', 'before')
        if phase not in ('before', 'after'):
            raise ValueError('phase must be "before" or "after"')
        return {'endpoint': endpoint, 'status': status, 'count': count, 'retry_after': retry_after,
                'delay': delay, 'drop': drop, 'phase': phase}

    def reset(self):
        """State back to the seed, config to defaults, log emptied, sessions and tokens dropped."""
        with self._lock:
            self._reset_locked()

    def _reset_locked(self):
        self._config = copy.deepcopy(DEFAULT_CONFIG)
        self._config['csrf'] = self._csrf_default
        self._clients = [{
            'id': AUTOMATION_RECORD_ID, 'name': AUTOMATION_CLIENT_NAME, 'clientId': AUTOMATION_CLIENT_ID,
            'applicationUrl': 'https://ansible.example.com', 'grantType': GRANT_CC, 'systemUserId': SUPERVISOR_ID,
            'isActive': True, 'redirectUrls': [], 'seeded': True,
        }]
        self._secrets = {AUTOMATION_CLIENT_ID: AUTOMATION_CLIENT_SECRET}
        self._sessions = {}
        self._tokens = {}
        self._log = []

    def expire(self, sessions=True, tokens=True, mode=None):
        """Invalidate sessions and/or tokens now; mode ('json'/'html') sets session_expiry."""
        with self._lock:
            if mode is not None:
                self.configure(session_expiry=mode)
            if sessions:
                self._sessions = {}
            if tokens:
                self._tokens = {}

    def rotate_csrf(self):
        """Give every session a new CSRF token server-side."""
        with self._lock:
            for session in self._sessions.values():
                session['csrf'] = secrets.token_urlsafe(16)

    # ------------------------------------------------------------ lookups

    @staticmethod
    def _user_by_id(user_id):
        guid = _canonical_guid(user_id)
        return next((u for u in USERS if u['id'] == guid), None)

    @staticmethod
    def _user_by_name(name):
        if not isinstance(name, str):
            return None
        return next((u for u in USERS if u['name'].lower() == name.lower()), None)

    def _client(self, client_id):
        if not isinstance(client_id, str) or not client_id:
            return None
        return next((c for c in self._clients if c['clientId'].lower() == client_id.lower()), None)

    def _redirect(self, redirect_id):
        guid = _canonical_guid(redirect_id)
        for client in self._clients:
            for row in client['redirectUrls']:
                if row['id'] == guid:
                    return client, row
        return None, None

    # ------------------------------------------------------------ dispatch

    def _route(self, path):
        if path == '/identity/connect/token':
            return 'Token', 'token', self._token
        rest = path
        if self.site_path:
            if not path.startswith(self.site_path + '/'):
                return 'Other', 'other', self._not_found
            rest = path[len(self.site_path):]
        if rest == '/ServiceModel/AuthService.svc/Login':
            return 'Login', 'login', self._login
        if rest.lower() in ('/login/nuilogin.aspx', '/login/login.html'):
            return 'LoginPage', 'other', self._login_page
        prefix = '/0/rest/OAuthConfigService/'
        if rest.startswith(prefix) and rest[len(prefix):] in SERVICE_METHODS:
            return rest[len(prefix):], 'write', self._service
        if rest == '/0/odata/OAuthClientApp':
            return 'OData', 'read', self._odata
        if rest.startswith('/0/') and not rest.startswith('/0/ServiceModel/'):
            return 'Other', 'other', self._protected_not_found
        return 'Other', 'other', self._not_found

    def _take_fault(self, endpoint):
        if endpoint not in FAULT_ENDPOINTS:
            return None
        for fault in self._config['faults']:
            if fault['endpoint'] in ('*', endpoint) and (fault['count'] is None or fault['count'] > 0):
                if fault['count'] is not None:
                    fault['count'] -= 1
                return {k: v for k, v in fault.items() if k != 'count'}
        return None

    @staticmethod
    def _apply_fault(fault):
        if fault['delay']:
            time.sleep(fault['delay'])
        if fault['drop']:
            return _Reply(None, drop=True)
        if fault['status'] is None:
            return None
        headers = []
        if fault['retry_after'] is not None:
            headers.append(('Retry-After', str(fault['retry_after'])))
        return _json(fault['status'], {'Message': 'Simulated fault'}, headers)

    def handle(self, ctx):
        """Answer one non-admin request: faults, identification, endpoint, log."""
        with self._lock:
            ctx.endpoint, ctx.kind, func = self._route(ctx.path)
            if ctx.kind in ('write', 'read') or func == self._protected_not_found:  # pylint: disable=comparison-with-callable
                self._identify(ctx)
            fault = self._take_fault(ctx.endpoint)
        reply = None
        if fault and fault['phase'] == 'before':
            reply = self._apply_fault(fault)
        if reply is None and len(ctx.query) > MAX_QUERY_STRING:
            reply = _html(404, b'<html><body><h1>HTTP Error 404.15 - Not Found</h1><p>The request filtering module is '
                               b'configured to deny a request where the query string is too long.</p></body></html>')
        if reply is None:
            with self._lock:
                reply = func(ctx)
            if fault and fault['phase'] == 'after':
                reply = self._apply_fault(fault) or reply
        with self._lock:
            self._seq += 1
            self._log.append({
                'seq': self._seq, 'method': ctx.method, 'path': ctx.path, 'endpoint': ctx.endpoint,
                'kind': ctx.kind, 'auth': ctx.auth, 'user': ctx.user['name'] if ctx.user else None,
                'csrf': ctx.csrf, 'status': None if reply.drop else reply.status, 'fault': fault,
            })
        return reply

    def _identify(self, ctx):
        authz = ctx.headers.get('Authorization') or ''
        if authz[:7].lower() == 'bearer ':
            ctx.auth = 'bearer'
            token = self._tokens.get(authz[7:].strip())
            if token and token['expires'] > time.monotonic():
                client = self._client(token['clientId'])
                if client and client['isActive']:
                    ctx.user = self._user_by_id(client['systemUserId'])
            return
        aspx = _parse_cookies(ctx.headers).get('.ASPXAUTH')
        if aspx is None:
            return
        ctx.auth = 'forms'
        session = self._sessions.get(aspx)
        if session:
            ctx.session = session
            ctx.user = self._user_by_id(session['userId'])
        if ctx.method in WRITE_METHODS:
            sent = ctx.headers.get('BPMCSRF')
            ctx.csrf = bool(session and sent and secrets.compare_digest(sent.encode(), session['csrf'].encode()))

    def _require_auth(self, ctx):
        if ctx.user is None:
            if ctx.auth == 'bearer':
                return _json(401, {'Message': MSG_AUTH_FAILED, 'StackTrace': None,
                                   'ExceptionType': 'System.Security.Authentication.AuthenticationException'},
                             [('WWW-Authenticate', 'Bearer error="invalid_token"')])
            if self._config['session_expiry'] == 'html':
                location = f'{ctx.base}{self.site_path}/Login/NuiLogin.aspx?ReturnUrl={quote(ctx.target, safe="")}'
                return _html(302, b'<html><body>Object moved.</body></html>', [('Location', location)])
            return _wcf_error(401, MSG_AUTH_FAILED, 'System.Security.Authentication.AuthenticationException')
        if ctx.auth == 'forms' and ctx.method in WRITE_METHODS and self._config['csrf'] and not ctx.csrf:
            return _json(403, {'Message': 'Invalid CSRF token.', 'StackTrace': None,
                               'ExceptionType': 'System.Security.SecurityException'})
        return None

    # ------------------------------------------------------------ endpoints

    @staticmethod
    def _not_found(ctx):
        del ctx
        return _html(404, NOT_FOUND_PAGE)

    def _protected_not_found(self, ctx):
        return self._require_auth(ctx) or _html(404, NOT_FOUND_PAGE)

    @staticmethod
    def _login_page(ctx):
        if ctx.method != 'GET':
            return _html(405, NOT_FOUND_PAGE)
        return _html(200, LOGIN_PAGE)

    def _login(self, ctx):
        if ctx.method != 'POST':
            return _wcf_error(405, 'Method not allowed.')
        if (ctx.headers.get('ForceUseSession') or '').strip().lower() != 'true':
            return _wcf_error(400, 'The "ForceUseSession: true" header is required.')
        if _media_type(ctx.headers) != 'application/json':
            return _wcf_error(415, 'Content-Type must be application/json.')
        data = _load_json(ctx.body)
        if not isinstance(data, dict):
            return _wcf_error(400, 'The request body is not a valid JSON object.',
                              'System.Runtime.Serialization.SerializationException')
        user = self._user_by_name(data.get('UserName'))
        password = data.get('UserPassword')
        if (user is None or user['password'] is None or not isinstance(password, str)
                or not secrets.compare_digest(password.encode('utf-8'), user['password'].encode('utf-8'))):
            return _json(200, {'Code': 1, 'Message': MSG_BAD_LOGIN, 'Exception': None,
                               'PasswordChangeUrl': None, 'RedirectUrl': None})
        aspx = secrets.token_hex(64).upper()
        csrf = secrets.token_urlsafe(16)
        self._sessions[aspx] = {'userId': user['id'], 'csrf': csrf, 'created': time.time()}
        ctx.user = user
        secure = '; Secure' if self.tls_cert else ''
        headers = [
            ('Set-Cookie', f'BPMLOADER={secrets.token_hex(12)}; path=/; HttpOnly{secure}'),
            ('Set-Cookie', f'.ASPXAUTH={aspx}; path={self.site_path or "/"}; HttpOnly{secure}'),
            ('Set-Cookie', f'BPMCSRF={csrf}; path=/{secure}'),
            ('Set-Cookie', f'UserName={user["name"]}; path=/{secure}'),
        ]
        return _json(200, {'Code': 0, 'Message': '', 'Exception': None, 'PasswordChangeUrl': None,
                           'RedirectUrl': None}, headers)

    def _token(self, ctx):
        no_store = [('Cache-Control', 'no-store'), ('Pragma', 'no-cache')]
        if ctx.method != 'POST':
            return _json(405, {'error': 'invalid_request'}, no_store)
        if not self._config['identity_up']:
            return _json(503, {'error': 'temporarily_unavailable'}, no_store)
        if _media_type(ctx.headers) != 'application/x-www-form-urlencoded':
            return _json(400, {'error': 'invalid_request'}, no_store)
        form = dict(parse_qsl(ctx.body.decode('utf-8', 'replace'), keep_blank_values=True))
        if form.get('grant_type') != GRANT_CC:
            return _json(400, {'error': 'unsupported_grant_type'}, no_store)
        client_id, client_secret = form.get('client_id'), form.get('client_secret')
        authz = ctx.headers.get('Authorization') or ''
        if authz[:6].lower() == 'basic ':
            try:
                decoded = base64.b64decode(authz[6:].strip(), validate=True).decode('utf-8')
            except (ValueError, UnicodeDecodeError):
                return _json(400, {'error': 'invalid_client'}, no_store)
            basic_id, _sep, basic_secret = decoded.partition(':')
            client_id, client_secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        client = self._client(client_id)
        usable = client is not None and client['grantType'] == GRANT_CC and client['isActive']
        secret = self._secrets.get(client['clientId']) if usable else None
        if not secret or not isinstance(client_secret, str) or not secrets.compare_digest(client_secret.encode('utf-8'), secret.encode('utf-8')):
            return _json(400, {'error': 'invalid_client'}, no_store)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = {'clientId': client['clientId'], 'expires': time.monotonic() + self.token_ttl}
        ctx.user = self._user_by_id(client['systemUserId'])
        return _json(200, {'access_token': token, 'expires_in': self.token_ttl, 'token_type': 'Bearer',
                           'scope': self._scope}, no_store)

    def _service(self, ctx):
        denied = self._require_auth(ctx)
        if denied:
            return denied
        if ctx.method != 'POST':
            return _wcf_error(405, 'Method not allowed.')
        if _media_type(ctx.headers) != 'application/json':
            return _wcf_error(415, 'Content-Type must be application/json.')
        method = ctx.endpoint
        param = SERVICE_METHODS[method]
        data = _load_json(ctx.body)
        inner = data.get(param) if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            return _wcf_error(400, f'The request body must be a JSON object wrapped as {{"{param}": {{...}}}}.',
                              'System.Runtime.Serialization.SerializationException')
        result = {'success': True, 'rowsAffected': -1, 'nextPrcElReady': False, 'errorInfo': None}
        try:
            if not self._config['oauth_feature']:
                raise _Fail(MSG_FEATURE_OFF, 'FeatureNotEnabledException')
            if not (self._config['admin_rights'] and ctx.user['admin']):
                raise _Fail(MSG_NO_RIGHTS, 'SecurityException')
            result.update(getattr(self, '_m_' + method)(inner) or {})
        except _BadRequest as exc:
            return _wcf_error(400, str(exc), 'System.Runtime.Serialization.SerializationException')
        except _Fail as exc:
            result['success'] = False
            result['errorInfo'] = {'errorCode': exc.code, 'message': exc.message, 'stackTrace': None}
        return _json(200, {f'{method}Result': result})

    def _check_identity(self):
        if not self._config['identity_up']:
            raise _Fail(MSG_IDENTITY_DOWN, 'IdentityServerException')

    def _m_AddClient(self, inner):  # pylint: disable=invalid-name
        name = _required(inner, 'name')
        app_url = _required(inner, 'applicationUrl')
        grant = _get_str(inner, 'grantType')
        system_user = _get_str(inner, 'systemUserId')
        redirect = _get_str(inner, 'redirectUrl')
        if grant not in (GRANT_CC, GRANT_CODE):
            raise _Fail(f'Grant type "{grant}" is not supported. Use "{GRANT_CC}" or "{GRANT_CODE}".')
        user = None
        if grant == GRANT_CC:
            if redirect:
                raise _Fail(f'Redirect URL is not allowed for the "{GRANT_CC}" grant type.')
            user = self._user_by_id(system_user)
            if user is None:
                raise _Fail(MSG_BAD_USER, 'InvalidSystemUserException')
        elif system_user:
            raise _Fail(f'System user is not allowed for the "{GRANT_CODE}" grant type.')
        self._check_identity()
        client_id = uuid.uuid4().hex
        secret = secrets.token_urlsafe(32)
        redirects = [{'id': str(uuid.uuid4()), 'redirectUrl': redirect}] if redirect else []
        self._clients.append({
            'id': str(uuid.uuid4()), 'name': name, 'clientId': client_id, 'applicationUrl': app_url,
            'grantType': grant, 'systemUserId': user['id'] if user else None, 'isActive': True,
            'redirectUrls': redirects, 'seeded': False,
        })
        self._secrets[client_id] = secret
        return {'clientId': client_id, 'clientSecret': secret}

    def _m_AddRedirectUrls(self, inner):  # pylint: disable=invalid-name
        client = self._client(_get_str(inner, 'clientId'))
        urls = inner.get('redirectUrls')
        if urls is not None and (not isinstance(urls, list) or not all(isinstance(u, str) for u in urls)):
            raise _BadRequest('Member "redirectUrls" must be an array of strings.')
        if client is None:
            raise _Fail(MSG_NO_RECORD, 'ItemNotFoundException')
        if client['grantType'] != GRANT_CODE:
            raise _Fail(f'Redirect URLs are not allowed for the "{client["grantType"]}" grant type.')
        if urls is None:
            raise _Fail('Parameter "redirectUrls" is required.', 'ArgumentNullOrEmptyException')
        if any(not u.strip() for u in urls):
            raise _Fail('Parameter "redirectUrls" must not contain empty values.', 'ArgumentNullOrEmptyException')
        added = [{'id': str(uuid.uuid4()), 'redirectUrl': u} for u in urls]
        client['redirectUrls'].extend(added)
        return {'redirectUrls': copy.deepcopy(added)}

    def _m_UpdateRedirectUrl(self, inner):  # pylint: disable=invalid-name
        redirect_id = _get_str(inner, 'redirectUrlId')
        url = _get_str(inner, 'redirectUrl')
        _client, row = self._redirect(redirect_id)
        if row is None:
            raise _Fail(MSG_NO_RECORD, 'ItemNotFoundException')
        if url is None or not url.strip():
            raise _Fail('Parameter "redirectUrl" is required.', 'ArgumentNullOrEmptyException')
        row['redirectUrl'] = url
        return {}

    def _m_DeleteRedirectUrl(self, inner):  # pylint: disable=invalid-name
        client, row = self._redirect(_get_str(inner, 'redirectUrlId'))
        if row is None:
            raise _Fail(MSG_NO_RECORD, 'ItemNotFoundException')
        client['redirectUrls'].remove(row)
        return {}

    def _m_UpdateClient(self, inner):  # pylint: disable=invalid-name
        client = self._client(_get_str(inner, 'clientId'))
        changes = {}
        for key in ('name', 'applicationUrl'):
            value = _get_str(inner, key)
            if value is not None:
                if not value.strip():
                    raise _Fail(f'Parameter "{key}" is required.', 'ArgumentNullOrEmptyException')
                changes[key] = value
        system_user = _get_str(inner, 'systemUserId')
        active = inner.get('isActive')
        if active is not None and not isinstance(active, bool):
            raise _BadRequest('Member "isActive" must be a boolean.')
        if client is None:
            raise _Fail(MSG_NO_RECORD, 'ItemNotFoundException')
        if system_user:
            if client['grantType'] != GRANT_CC:
                raise _Fail(f'System user is not allowed for the "{client["grantType"]}" grant type.')
            user = self._user_by_id(system_user)
            if user is None:
                raise _Fail(MSG_BAD_USER, 'InvalidSystemUserException')
            changes['systemUserId'] = user['id']
        if active is not None:
            changes['isActive'] = active
        self._check_identity()
        client.update(changes)
        return {}

    def _m_DeleteClient(self, inner):  # pylint: disable=invalid-name
        client = self._client(_get_str(inner, 'clientId'))
        if client is None:
            raise _Fail(MSG_NO_RECORD, 'ItemNotFoundException')
        self._check_identity()
        self._clients.remove(client)
        self._secrets.pop(client['clientId'], None)
        self._tokens = {k: v for k, v in self._tokens.items() if v['clientId'] != client['clientId']}
        return {}

    def _odata(self, ctx):
        denied = self._require_auth(ctx)
        if denied:
            return denied
        if ctx.method != 'GET':
            return _odata_error(405, 'The requested resource does not support this HTTP method.')
        if self._config['odata_status']:
            return _odata_error(self._config['odata_status'], 'Access to the OAuthClientApp entity is denied.')
        opts = {}
        for key, value in parse_qsl(ctx.query, keep_blank_values=True):
            if not key.startswith('$'):
                continue
            if key not in ('$filter', '$select', '$skip', '$top') or key in opts:
                return _odata_error(400, f"The query parameter '{key}' is not supported or is repeated.")
            opts[key] = value
        clauses = None
        if '$filter' in opts:
            try:
                clauses = _parse_filter(opts['$filter'])
            except ValueError as exc:
                return _odata_error(400, str(exc))
        columns = list(ODATA_COLUMNS)
        if '$select' in opts:
            columns = [c.strip() for c in opts['$select'].split(',')]
            bad = [c for c in columns if c not in ODATA_COLUMNS]
            if bad:
                return _odata_error(400, f"Could not find a property named '{bad[0]}' on type 'OAuthClientApp'.")
        numbers = {}
        for key in ('$skip', '$top'):
            if key in opts:
                if not opts[key].isdigit():
                    return _odata_error(400, f"Invalid value '{opts[key]}' for {key}.")
                numbers[key] = int(opts[key])
        skip = numbers.get('$skip', 0)
        rows = [c for c in self._clients
                if clauses is None or any(c[ODATA_FILTER_FIELDS[f]] == v for f, v in clauses)][skip:]
        if '$top' in numbers:
            rows = rows[:numbers['$top']]
        page = rows[:self.odata_page_size]
        context = f'{ctx.base}{self.site_path}/0/odata/$metadata#OAuthClientApp'
        if '$select' in opts:
            context += f'({",".join(columns)})'
        document = {'@odata.context': context, 'value': [self._odata_row(c, columns) for c in page]}
        if len(rows) > len(page):
            params = [(k, v) for k, v in opts.items() if k not in ('$skip', '$top')]
            params.append(('$skip', str(skip + len(page))))
            if '$top' in numbers:
                params.append(('$top', str(numbers['$top'] - len(page))))
            document['@odata.nextLink'] = (f'{ctx.base}{self.site_path}/0/odata/OAuthClientApp?'
                                           + urlencode(params, quote_via=quote, safe="$,'"))
        return _json(200, document)

    @staticmethod
    def _odata_row(client, columns):
        full = {
            'Id': client['id'], 'Name': client['name'], 'ClientId': client['clientId'],
            'ApplicationUrl': client['applicationUrl'],
            'RedirectUrl': client['redirectUrls'][0]['redirectUrl'] if client['redirectUrls'] else '',
            'IsActive': client['isActive'], 'SystemUserId': client['systemUserId'],
        }
        return {c: full[c] for c in columns}

    # ------------------------------------------------------------ admin API

    def admin(self, method, path, body, client_host):
        """Answer a /_sim/... request (loopback clients only, not logged)."""
        if not is_loopback(client_host):
            return _json(403, {'error': 'the admin API only answers loopback clients'})
        data = {}
        if body.strip():
            data = _load_json(body)
            if not isinstance(data, dict):
                return _json(400, {'error': 'body must be a JSON object'})
        gets = {'/_sim/state': self.state, '/_sim/log': self.log, '/_sim/config': lambda: self.state()['config']}
        posts = {'/_sim/log/clear': self.clear_log, '/_sim/reset': self.reset, '/_sim/rotate_csrf': self.rotate_csrf}
        try:
            if method == 'GET' and path in gets:
                return _json(200, gets[path]())
            if method == 'POST' and path in posts:
                posts[path]()
                return _json(200, {'ok': True})
            if method == 'POST' and path == '/_sim/config':
                return _json(200, self.configure(**data))
            if method == 'POST' and path == '/_sim/expire':
                unknown = set(data) - {'sessions', 'tokens', 'mode'}
                if unknown:
                    raise ValueError(f'unknown keys: {sorted(unknown)}')
                self.expire(**data)
                return _json(200, {'ok': True})
        except ValueError as exc:
            return _json(400, {'error': str(exc)})
        if path in gets or path in posts or path in ('/_sim/config', '/_sim/expire'):
            return _json(405, {'error': 'method not allowed'})
        return _json(404, {'error': 'unknown admin call'})


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler; all logic lives in Simulator."""

    protocol_version = 'HTTP/1.1'
    server_version = 'Creatio-Simulator/1.0'
    timeout = 120
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence http.server's own access log."""

    def base_url(self):
        """scheme://host[:port] as the client addressed us."""
        sim = self.server.sim
        host = self.headers.get('Host') or sim.url.split('://', 1)[1].split('/', 1)[0]
        return f'{sim.scheme}://{host}'

    def _read_body(self):
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            self.close_connection = True
            self._send(_json(411, {'Message': 'Content-Length is required.'}))
            return None
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(_json(413 if length > MAX_BODY else 400, {'Message': 'Bad Content-Length.'}))
            return None
        return self.rfile.read(length) if length else b''

    def _send(self, reply):
        if reply.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header('Content-Type', reply.ctype)
        self.send_header('Content-Length', str(len(reply.body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(reply.body)

    def _handle(self):
        sim = self.server.sim
        body = self._read_body()
        if body is None:
            return
        path, _sep, query = self.path.partition('?')
        if path == '/_sim' or path.startswith('/_sim/'):
            self._send(sim.admin(self.command, path, body, self.client_address[0]))
            return
        reply = sim.handle(_Ctx(self, path, query, body))
        if sim.verbose:
            sys.stderr.write(f'{self.client_address[0]} {self.command} {path} -> {"dropped" if reply.drop else reply.status}\n')
        self._send(reply)

    def do_GET(self):  # pylint: disable=invalid-name
        """GET."""
        self._handle()

    def do_POST(self):  # pylint: disable=invalid-name
        """POST."""
        self._handle()

    def do_PUT(self):  # pylint: disable=invalid-name
        """PUT."""
        self._handle()

    def do_PATCH(self):  # pylint: disable=invalid-name
        """PATCH."""
        self._handle()

    def do_DELETE(self):  # pylint: disable=invalid-name
        """DELETE."""
        self._handle()


class _Server(ThreadingHTTPServer):
    """Threading server that tracks open connections and does TLS handshakes off the accept loop."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, sim, ssl_context):
        self.sim = sim
        self.ssl_context = ssl_context
        self._conns = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        conn = request
        if self.ssl_context is not None:
            try:
                request.settimeout(10)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        with self._conns_lock:
            self._conns.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            if conn is not request:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()

    def handle_error(self, request, client_address):
        if self.sim.verbose:
            super().handle_error(request, client_address)

    def close_all(self):
        """Shut down every open client connection."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Server6(_Server):
    """IPv6 variant."""

    address_family = socket.AF_INET6


def _write_port_file(path, port):
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(f'{port}\n')
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description='Strict Creatio OAuth API simulator (see docs/dev/design.md).')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--site-path', default='/')
    parser.add_argument('--no-csrf', action='store_true', help='switch CSRF checking off')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    parser.add_argument('--port-file', help='write the chosen port to this file once listening')
    parser.add_argument('--token-ttl', type=int, default=3600)
    parser.add_argument('--odata-page-size', type=int, default=100)
    parser.add_argument('--verbose', action='store_true', help='print one line per request on stderr')
    parser.add_argument('--quiet', action='store_true', help='never print per-request lines')
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error('--tls-cert and --tls-key go together')
    sim = Simulator(host=args.host, port=args.port, site_path=args.site_path, csrf=not args.no_csrf,
                    tls_cert=args.tls_cert, tls_key=args.tls_key, token_ttl=args.token_ttl,
                    odata_page_size=args.odata_page_size, verbose=args.verbose and not args.quiet)
    stop = threading.Event()

    def _on_signal(signum, frame):
        del signum, frame
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    sim.start()
    if args.port_file:
        _write_port_file(args.port_file, sim.port)
    print(f'Creatio simulator listening on {sim.url}')
    print(f'Identity service: {sim.identity_url}')
    print(f'CSRF checking: {"on" if not args.no_csrf else "off"}')
    print('Seeded users:')
    print(f'  {"name":<12} {"password":<22} {"id":<36} admin')
    for user in USERS:
        password = user['password'] or '(technical, no login)'
        print(f'  {user["name"]:<12} {password:<22} {user["id"]:<36} {"yes" if user["admin"] else "no"}')
    print(f'Automation OAuth client: "{AUTOMATION_CLIENT_NAME}" client_id {AUTOMATION_CLIENT_ID} '
          f'secret {AUTOMATION_CLIENT_SECRET} (system user Supervisor)')
    sys.stdout.flush()
    try:
        while not stop.wait(0.2):
            pass
    finally:
        sim.stop()
        if args.port_file:
            try:
                os.unlink(args.port_file)
            except OSError:
                pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
