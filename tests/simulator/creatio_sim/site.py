"""One simulated Creatio site: its state, its switches, its endpoints and its control API."""

from __future__ import annotations

# pylint: disable=too-many-lines

import base64
import copy
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

from . import data, odata
from .data import (
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_NAME, AUTOMATION_CLIENT_SECRET, AUTOMATION_RECORD_ID, GRANT_CC, GRANT_CODE, POWERBI_USER_ID,
    SEED_TIME, SERVICE_METHODS, SUPERVISOR_CONTACT_ID, SUPERVISOR_ID, USER_TYPE,
)
from .messages import text as _text
from .server import (
    Handler, Reply, Server, Server6, html_reply, is_loopback, json_reply, load_json, media_type, parse_cookies,
    xml_reply,
)

# IIS's default request filtering (maxQueryString), which the collection assumes (its API assumption 14).
MAX_QUERY_STRING = 2048
WRITE_METHODS = ('POST', 'PUT', 'PATCH', 'DELETE')
ODATA_OPTIONS = ('$filter', '$select', '$skip', '$top', '$orderby')

LOGIN_PAGE = (b'<!DOCTYPE html>\n<html><head><title>Creatio</title></head>'
              b'<body><form id="loginForm"><input name="UserName"/><input name="UserPassword" type="password"/>'
              b'</form></body></html>\n')
NOT_FOUND_PAGE = b'<!DOCTYPE html>\n<html><head><title>404 - Not found</title></head><body><h1>Not found</h1></body></html>\n'
QUERY_TOO_LONG_PAGE = (b'<html><body><h1>HTTP Error 404.15 - Not Found</h1><p>The request filtering module is '
                       b'configured to deny a request where the query string is too long.</p></body></html>')
UNAVAILABLE_PAGE = (b'<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>'
                    b'<h1>Service Unavailable</h1><p>HTTP Error 503. The service is unavailable.</p></body></html>\n')
WCF_NOT_FOUND_PAGE = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
                      'Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
                      '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Service</title></head><body>'
                      '<div id="content"><p class="heading1">Service</p><p>{message}</p></div></body></html>\n')


class _BadRequest(Exception):
    """A request body member has the wrong JSON type (HTTP 400)."""


class _Fail(Exception):
    """A business error (HTTP 200, success false)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.message = message
        self.code = code


def normalize_site_path(site_path):
    """'/' -> '', 'CreatioApp/' -> '/CreatioApp'."""
    path = (site_path or '/').strip()
    if '?' in path or '#' in path or ' ' in path:
        raise ValueError(f'invalid site path: {site_path!r}')
    path = '/' + path.strip('/')
    return '' if path == '/' else path


def canonical_guid(value):
    """'7F3B...' -> '7f3b...-...' (lower-case, hyphenated), or None when not a GUID."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def _odata_error(status, message):
    return json_reply(status, {'error': {'code': '', 'message': message}})


def _wcf_error(status, message, exc_type='System.ServiceModel.Web.WebFaultException'):
    return json_reply(status, {'Message': message, 'StackTrace': None, 'ExceptionType': exc_type})


class Simulator:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """A strict Creatio simulator served on a background thread.

    Keyword arguments after ``verbose`` set the site's switches at start and after every reset
    (the same names and values as ``configure``); ``passwords`` ({user name: password}) replaces the
    seeded passwords of users that can log in, also after a reset.
    """

    def __init__(self, host='127.0.0.1', port=0, site_path='/', csrf=True, tls_cert=None, tls_key=None,
                 token_ttl=3600, odata_page_size=100, verbose=False, platform='netframework', creatio_version='8.3',
                 language='en', database='postgresql', passwords=None, **switches):
        self.host = host
        self.port = int(port)
        self.site_path = normalize_site_path(site_path)
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.token_ttl = int(token_ttl)
        self.odata_page_size = max(1, int(odata_page_size))
        self.verbose = verbose
        self._passwords = dict(passwords or {})
        self._lock = threading.RLock()
        self._server = None
        self._thread = None
        self._scope = 'ApplicationAccess_' + uuid.uuid4().hex
        self._seq = 0
        self._log = []
        self._config = {}
        self._clients = []
        self._units = []
        self._secrets = {}
        self._sessions = {}
        self._tokens = {}
        self._last_ms = 0
        self._triggers = []
        self.fired = []
        self._in_flight = 0
        initial = dict(switches, csrf=bool(csrf), platform=platform, creatio_version=creatio_version, language=language,
                       database=database)
        self._initial_config = self._validated(copy.deepcopy(data.DEFAULT_CONFIG), initial)
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
        """Creatio root URL ({site}), site path included, no trailing slash."""
        return f'{self.scheme}://{self._host_port()}{self.site_path}'

    @property
    def api_url(self):
        """Where the API lives now ({api}): {site}/0 on netframework, {site} on netcore."""
        return self.url + self._api_prefix()

    @property
    def identity_url(self):
        """Identity service root URL (token endpoint is {identity_url}/connect/token)."""
        return f'{self.scheme}://{self._host_port()}/identity'

    @property
    def control_url(self):
        """Root of this site's control API (GET {control_url}/state, POST {control_url}/config, ...)."""
        return f'{self.scheme}://{self._host_port()}/_sim'

    def describe(self):
        """{url, identity_url, control}: what a test needs to reach this site."""
        return {'url': self.url, 'identity_url': self.identity_url, 'control': self.control_url}

    def start(self):
        """Bind, listen and serve on a daemon thread; return once listening."""
        if self._server is not None:
            return self
        context = None
        if self.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls_cert, self.tls_key)
        server_class = Server6 if ':' in self.host else Server
        self._server = server_class((self.host, self.port), Handler, self, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
                                        name=f'creatio-simulator-{self.port}', daemon=True)
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

    # ------------------------------------------------------------ python API (same as the control API)

    def state(self):
        """Clients (never a secret), users, all SysAdminUnit rows, config, session and token counts."""
        with self._lock:
            return {
                'clients': copy.deepcopy(self._clients),
                'users': [self._public_user(u) for u in self._units if u['type'] == USER_TYPE],
                'units': [self._public_unit(u) for u in self._units],
                'config': copy.deepcopy(self._config),
                'sessions': len(self._sessions),
                'tokens': len(self._tokens),
            }

    @staticmethod
    def _public_user(unit):
        return {k: unit[k] for k in ('id', 'name', 'admin', 'technical', 'active', 'contactId')}

    @staticmethod
    def _public_unit(unit):
        return {k: unit[k] for k in ('id', 'name', 'type', 'active', 'contactId')}

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
            self._config = self._validated(self._config, kwargs)
            return copy.deepcopy(self._config)

    def _validated(self, config, changes):
        new = copy.deepcopy(config)
        for key, value in changes.items():
            if key in data.BOOL_SWITCHES:
                if not isinstance(value, bool):
                    raise ValueError(f'{key} must be a boolean')
            elif key in data.CHOICE_SWITCHES:
                if value not in data.CHOICE_SWITCHES[key]:
                    raise ValueError(f'{key} must be one of {", ".join(data.CHOICE_SWITCHES[key])}')
            elif key in data.STATUS_SWITCHES:
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599):
                    raise ValueError(f'{key} must be null or an HTTP error status')
            elif key == 'redirect_entity_name':
                if not isinstance(value, str) or not value.isidentifier() or value in ('OAuthClientApp', 'SysAdminUnit'):
                    raise ValueError('redirect_entity_name must be an identifier naming a new entity set')
            elif key == 'faults':
                value = [self._check_fault(f) for f in (value or [])]
            else:
                raise ValueError(f'unknown configuration key: {key}')
            new[key] = value
        return new

    @staticmethod
    def _check_fault(fault):
        if not isinstance(fault, dict):
            raise ValueError('a fault must be an object')
        unknown = set(fault) - set(data.FAULT_KEYS)
        if unknown:
            raise ValueError(f'unknown fault keys: {sorted(unknown)}')
        endpoint = fault.get('endpoint', '*')
        if endpoint != '*' and endpoint not in data.FAULT_ENDPOINTS:
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
        body = fault.get('body')
        if body is not None and not isinstance(body, str):
            raise ValueError('body must be null or a string')
        content_type = fault.get('content_type', 'text/html; charset=utf-8')
        if not isinstance(content_type, str):
            raise ValueError('content_type must be a string')
        rewrite = fault.get('rewrite') or []
        if not isinstance(rewrite, list) or not all(
                isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(x, str) for x in r) for r in rewrite):
            raise ValueError('rewrite must be a list of [pattern, replacement] pairs of strings')
        for pattern, _replacement in rewrite:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f'rewrite pattern {pattern!r}: {exc}') from exc
        trickle = fault.get('trickle', 0) or 0
        if not isinstance(trickle, (int, float)) or isinstance(trickle, bool) or trickle < 0:
            raise ValueError('trickle must be a number >= 0')
        if body is not None and 'status' not in fault:
            status = 200
        elif (rewrite or trickle) and 'status' not in fault:
            status = None  # the real answer, changed
        if rewrite and body is not None:
            raise ValueError('give body or rewrite, not both')
        if rewrite:
            phase = 'after'  # the real call runs, then its answer is rewritten
        return {'endpoint': endpoint, 'status': status, 'count': count, 'retry_after': retry_after,
                'delay': delay, 'drop': drop, 'phase': phase, 'body': body, 'content_type': content_type,
                'rewrite': [list(r) for r in rewrite], 'trickle': trickle}

    def reset(self):
        """State back to the seed, config to the start-up switches, log emptied, sessions and tokens dropped."""
        with self._lock:
            self._reset_locked()

    def _reset_locked(self):
        self._config = copy.deepcopy(self._initial_config)
        self._units = []
        for user in data.USERS:
            password = self._passwords.get(user['name'], user['password']) if user['password'] else None
            self._units.append(self._seed_unit(user['id'], user['name'], USER_TYPE, contact=user['contactId'],
                                               password=password, admin=user['admin'], technical=user['technical']))
        for role in data.ROLES:
            self._units.append(self._seed_unit(role['id'], role['name'], role['type']))
        self._clients = [{
            'id': AUTOMATION_RECORD_ID, 'name': AUTOMATION_CLIENT_NAME, 'clientId': AUTOMATION_CLIENT_ID,
            'applicationUrl': 'https://ansible.example.com', 'grantType': GRANT_CC, 'systemUserId': SUPERVISOR_ID,
            'isActive': True, 'description': '', 'redirectUrls': [], 'seeded': True,
            'createdOn': SEED_TIME, 'createdById': SUPERVISOR_CONTACT_ID,
            'modifiedOn': SEED_TIME, 'modifiedById': SUPERVISOR_CONTACT_ID,
        }]
        self._secrets = {AUTOMATION_CLIENT_ID: AUTOMATION_CLIENT_SECRET}
        self._sessions = {}
        self._tokens = {}
        self._log = []

    @staticmethod
    def _seed_unit(unit_id, name, unit_type, contact=None, password=None, admin=False, technical=False, active=True,
                   created=SEED_TIME, creator=SUPERVISOR_CONTACT_ID):
        return {'id': unit_id, 'name': name, 'type': unit_type, 'active': active, 'contactId': contact,
                'password': password, 'admin': admin, 'technical': technical, 'description': '',
                'createdOn': created, 'createdById': creator, 'modifiedOn': created, 'modifiedById': creator}

    def add_unit(self, name, unit_type=USER_TYPE, password=None, admin=False, active=True):
        """Add a SysAdminUnit row (a user when unit_type is 4, else a role) "by hand"; return its dict."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError('name must be a non-empty string')
        if unit_type not in (0, 1, 2, 3, 4, 5, 6) or isinstance(unit_type, bool):
            raise ValueError('type must be a SysAdminUnitTypeValue 0-6')
        if password is not None and not isinstance(password, str):
            raise ValueError('password must be null or a string')
        if not isinstance(admin, bool) or not isinstance(active, bool):
            raise ValueError('admin and active must be booleans')
        with self._lock:
            is_user = unit_type == USER_TYPE
            unit = self._seed_unit(str(uuid.uuid4()), name, unit_type, contact=str(uuid.uuid4()) if is_user else None,
                                   password=password if is_user else None, admin=admin and is_user,
                                   technical=is_user and password is None, active=active, created=self._now())
            self._units.append(unit)
            return self._public_unit(unit)

    def add_client(self, name, application_url='https://app.example.com', system_user_id=POWERBI_USER_ID, record_id=None,
                   created_on=None):
        """Add a client credentials integration "by hand", as another controller's AddClient would (its
        secret in issued_secrets()); a trigger action can make it land between two requests of a run.
        ``record_id`` and ``created_on`` set its Id and CreatedOn (a tie with another creation, an Id
        that sorts first). Returns the client (never a secret)."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError('name must be a non-empty string')
        with self._lock:
            if self._user_by_id(system_user_id) is None:
                raise ValueError('system_user_id must be the Id of a user')
            now = self._now()
            client = {
                'id': canonical_guid(record_id) or str(uuid.uuid4()), 'name': name,
                'clientId': uuid.uuid4().hex.upper(), 'applicationUrl': application_url, 'grantType': GRANT_CC,
                'systemUserId': canonical_guid(system_user_id), 'isActive': True, 'description': '', 'redirectUrls': [],
                'seeded': False, 'createdOn': created_on or now, 'createdById': SUPERVISOR_CONTACT_ID,
                'modifiedOn': created_on or now, 'modifiedById': SUPERVISOR_CONTACT_ID,
            }
            self._clients.append(client)
            self._secrets[client['clientId']] = secrets.token_hex(32).upper()
            return copy.deepcopy(client)

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

    def issued_secrets(self):
        """Every secret this site holds or handed out, for tests that scan output for leaks:
        ``{"client_secrets": {clientId: secret}, "sessions": [{"aspxauth", "csrf"}], "tokens": [...]}``.
        Never part of state() or the log."""
        with self._lock:
            return {'client_secrets': dict(self._secrets),
                    'sessions': [{'aspxauth': k, 'csrf': v['csrf']} for k, v in self._sessions.items()],
                    'tokens': list(self._tokens)}

    # ------------------------------------------------------------ triggers and activity (for tests)

    def trigger(self, endpoint, action, skip=0, label=None):
        """Run ``action(sim)`` right before the (skip+1)-th request to ``endpoint`` (a log endpoint
        name) is handled, so that request already sees its effect; ``label`` goes to ``fired``."""
        if endpoint not in data.ENDPOINTS:
            raise ValueError(f'unknown endpoint: {endpoint}')
        with self._lock:
            self._triggers.append({'endpoint': endpoint, 'action': action, 'skip': skip, 'label': label or endpoint})

    def pending_triggers(self):
        """Labels of the triggers that have not fired yet."""
        with self._lock:
            return [t['label'] for t in self._triggers]

    def in_flight(self):
        """How many requests the server is working on now (a slow faulted one goes on after its client left)."""
        with self._lock:
            return self._in_flight

    def wait_settled(self, timeout=30):
        """Wait until the server is done with every request it received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.in_flight():
                return
            time.sleep(0.02)
        raise AssertionError(f'the simulator still works on a request after {timeout} s')

    def _fire_trigger(self, endpoint):
        for trig in self._triggers:
            if trig['endpoint'] != endpoint:
                continue
            if trig['skip']:
                trig['skip'] -= 1
                return False
            self._triggers.remove(trig)
            trig['action'](self)
            self.fired.append(trig['label'])
            return True
        return False

    # ------------------------------------------------------------ helpers

    def text(self, message_id, **values):
        """A message in the site's current language."""
        return _text(self._config['language'], message_id, **values)

    def _api_prefix(self):
        return '/0' if self._config['platform'] == 'netframework' else ''

    def _v81(self):
        return self._config['creatio_version'] == '8.1'

    def _serves_openid_configuration(self):
        mode = self._config['openid_configuration']
        return mode == 'on' or (mode == 'auto' and not self._v81())

    def _now(self):
        """The current UTC time as OData serialises it, strictly later than the last one handed out;
        with switch stamp_precision "second", whole seconds (two writes in one second get the same stamp)."""
        millis = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = millis
        stamp = datetime.fromtimestamp(millis // 1000, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')
        if self._config['stamp_precision'] == 'second':
            return f'{stamp}.000Z'
        return f'{stamp}.{millis % 1000:03d}Z'

    def _user_by_id(self, user_id):
        guid = canonical_guid(user_id)
        return next((u for u in self._units if u['type'] == USER_TYPE and u['id'] == guid), None)

    def _user_by_name(self, name):
        if not isinstance(name, str):
            return None
        return next((u for u in self._units if u['type'] == USER_TYPE and u['active'] and u['name'].lower() == name.lower()),
                    None)

    def _client(self, client_id):
        """A client by its client id, without regard to case."""
        if not isinstance(client_id, str) or not client_id:
            return None
        return next((c for c in self._clients if c['clientId'].lower() == client_id.lower()), None)

    def _redirect(self, redirect_id):
        guid = canonical_guid(redirect_id)
        for client in self._clients:
            for row in client['redirectUrls']:
                if row['id'] == guid:
                    return client, row
        return None, None

    def _stamp(self, record, ctx, created=False):
        now = self._now()
        contact = ctx.user['contactId'] if ctx.user else None
        if created:
            record['createdOn'], record['createdById'] = now, contact
        record['modifiedOn'], record['modifiedById'] = now, contact
        return record

    # ------------------------------------------------------------ dispatch

    def _route(self, path):
        """(endpoint, kind, handler, protected): protected ones identify the caller first."""
        cfg = self._config
        if path == '/identity/connect/token':
            return 'Token', 'token', self._token, False
        if path in ('/identity/.well-known/openid-configuration', '/identity/.well-known/openid-configuration/jwks'):
            return 'IdentityDiscovery', 'discovery', self._identity_discovery, False
        if path == '/identity/connect/authorize' and cfg['authorize_endpoint'] == 'on':
            return 'Authorize', 'read', self._authorize, False
        rest = path
        if self.site_path:
            if not path.startswith(self.site_path + '/'):
                return 'Other', 'other', self._not_found, False
            rest = path[len(self.site_path):]
        if rest == '/ServiceModel/AuthService.svc/Login':
            return 'Login', 'login', self._login, False
        if rest.lower() in ('/login/nuilogin.aspx', '/login/login.html'):
            return 'LoginPage', 'other', self._login_page, False
        netcore = cfg['platform'] == 'netcore'
        api = self._api_prefix()
        if not rest.startswith(api + '/') or (netcore and (rest == '/0' or rest.startswith('/0/'))):
            return 'Other', 'other', self._not_found, False  # the wrong API root: what a real site would answer
        sub = rest[len(api):]
        service = '/rest/OAuthConfigService/'
        if sub.startswith(service):
            method = sub[len(service):]
            if method in SERVICE_METHODS:
                return method, 'read' if method in data.READ_METHODS else 'write', self._service, True
            return 'Other', 'other', self._endpoint_not_found, True
        if sub == '/.well-known/openid-configuration' and self._serves_openid_configuration():
            return 'OpenIdConfiguration', 'discovery', self._openid_configuration, False
        if sub in ('/odata', '/odata/'):
            return 'ODataService', 'read', self._odata_service, True
        if sub == '/odata/$metadata':
            return 'Metadata', 'read', self._metadata, True
        if sub.startswith('/odata/'):
            name = sub[len('/odata/'):]
            if name == 'OAuthClientApp':
                return 'OData', 'read', self._odata, True
            if name == 'SysAdminUnit':
                return 'SysAdminUnit', 'read', self._odata, True
            if name == cfg['redirect_entity_name']:
                return 'RedirectUrlEntity', 'read', self._odata, True
            return 'Other', 'read', self._odata, True
        if not netcore and not sub.startswith('/ServiceModel/'):
            return 'Other', 'other', self._protected_not_found, True
        if netcore and sub.startswith(('/rest/', '/.well-known/', '/DataService/')):
            return 'Other', 'other', self._protected_not_found, True
        return 'Other', 'other', self._not_found, False

    def _take_fault(self, endpoint):
        if endpoint not in data.FAULT_ENDPOINTS:
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
            return Reply(None, drop=True)
        if fault['status'] is None:
            return None
        headers = []
        if fault['retry_after'] is not None:
            headers.append(('Retry-After', str(fault['retry_after'])))
        if fault['body'] is not None:
            return Reply(fault['status'], fault['body'].encode('utf-8'), fault['content_type'], headers)
        return json_reply(fault['status'], {'Message': 'Simulated fault'}, headers)

    @staticmethod
    def _change_reply(fault, reply):
        """A gateway's or a slow link's doing: the real answer's body rewritten, or sent a byte at a time."""
        if reply is None or reply.drop:
            return reply
        if fault['rewrite']:
            text = reply.body.decode('utf-8', 'replace')
            for pattern, replacement in fault['rewrite']:
                text = re.sub(pattern, replacement, text)
            reply.body = text.encode('utf-8')
        if fault['trickle']:
            reply.trickle = fault['trickle']
        return reply

    def handle(self, ctx):
        """Answer one non-admin request: triggers, identification, faults, endpoint, log."""
        with self._lock:
            self._in_flight += 1
        try:
            return self._handle(ctx)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _handle(self, ctx):
        with self._lock:
            ctx.endpoint, ctx.kind, func, protected = self._route(ctx.path)
            if self._fire_trigger(ctx.endpoint):
                ctx.endpoint, ctx.kind, func, protected = self._route(ctx.path)
            if protected:
                self._identify(ctx)
            if ctx.kind == 'write' and ctx.method == 'GET':
                ctx.kind = 'read'  # a service method takes POST only: a GET of it runs nothing (405 or 404)
            fault = self._take_fault(ctx.endpoint)
        reply = None
        if fault and fault['phase'] == 'before':
            reply = self._apply_fault(fault)
        if reply is None and len(ctx.query) > MAX_QUERY_STRING:
            reply = html_reply(404, QUERY_TOO_LONG_PAGE)
        if reply is None:
            with self._lock:
                reply = func(ctx)
            if fault and fault['phase'] == 'after':
                reply = self._apply_fault(fault) or reply
        if fault:
            reply = self._change_reply(fault, reply)
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
        aspx = parse_cookies(ctx.headers).get('.ASPXAUTH')
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
                return json_reply(401, {'Message': self.text('auth_failed'), 'StackTrace': None,
                                        'ExceptionType': 'System.Security.Authentication.AuthenticationException'},
                                  [('WWW-Authenticate', 'Bearer error="invalid_token"')])
            if self._config['session_expiry'] == 'html':
                location = f'{ctx.base}{self.site_path}/Login/NuiLogin.aspx?ReturnUrl={quote(ctx.target, safe="")}'
                return html_reply(302, b'<html><body>Object moved.</body></html>', [('Location', location)])
            return _wcf_error(401, self.text('auth_failed'), 'System.Security.Authentication.AuthenticationException')
        if ctx.auth == 'forms' and ctx.method in WRITE_METHODS and self._config['csrf'] and not ctx.csrf:
            return json_reply(403, {'Message': self.text('csrf'), 'StackTrace': None,
                                    'ExceptionType': 'System.Security.SecurityException'})
        return None

    # ------------------------------------------------------------ plain endpoints

    @staticmethod
    def _not_found(ctx):
        del ctx
        return html_reply(404, NOT_FOUND_PAGE)

    def _protected_not_found(self, ctx):
        return self._require_auth(ctx) or html_reply(404, NOT_FOUND_PAGE)

    def _wcf_not_found(self):
        """A method this site does not have: WCF's "Endpoint not found." (HTML page on .NET Framework,
        JSON on .NET Core)."""
        message = self.text('endpoint_not_found')
        if self._config['platform'] == 'netframework':
            return html_reply(404, WCF_NOT_FOUND_PAGE.format(message=message).encode('utf-8'))
        return _wcf_error(404, message, 'System.ServiceModel.EndpointNotFoundException')

    def _endpoint_not_found(self, ctx):
        return self._require_auth(ctx) or self._wcf_not_found()

    @staticmethod
    def _login_page(ctx):
        if ctx.method != 'GET':
            return html_reply(405, NOT_FOUND_PAGE)
        return html_reply(200, LOGIN_PAGE)

    def _login(self, ctx):
        if ctx.method != 'POST':
            return _wcf_error(405, self.text('method_not_allowed'))
        if (ctx.headers.get('ForceUseSession') or '').strip().lower() != 'true':
            return _wcf_error(400, self.text('force_use_session'))
        if media_type(ctx.headers) != 'application/json':
            return _wcf_error(415, self.text('json_required'))
        body = load_json(ctx.body)
        if not isinstance(body, dict):
            return _wcf_error(400, self.text('bad_json'), 'System.Runtime.Serialization.SerializationException')
        user = self._user_by_name(body.get('UserName'))
        password = body.get('UserPassword')
        if (user is None or user['password'] is None or not isinstance(password, str)
                or not secrets.compare_digest(password.encode('utf-8'), user['password'].encode('utf-8'))):
            message = self.text('bad_login')
            if self._config['echo_credentials'] and isinstance(password, str):
                message += ' ' + echoed(password)
            return json_reply(200, {'Code': 1, 'Message': message, 'Exception': None,
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
        return json_reply(200, {'Code': 0, 'Message': '', 'Exception': None, 'PasswordChangeUrl': None,
                                'RedirectUrl': None}, headers)

    def _token(self, ctx):
        no_store = [('Cache-Control', 'no-store'), ('Pragma', 'no-cache')]
        if ctx.method != 'POST':
            return json_reply(405, {'error': 'invalid_request'}, no_store)
        if not self._config['identity_up']:
            return html_reply(503, UNAVAILABLE_PAGE, no_store)
        if media_type(ctx.headers) != 'application/x-www-form-urlencoded':
            return json_reply(400, {'error': 'invalid_request'}, no_store)
        form = dict(parse_qsl(ctx.body.decode('utf-8', 'replace'), keep_blank_values=True))
        if form.get('grant_type') != GRANT_CC:
            return json_reply(400, {'error': 'unsupported_grant_type'}, no_store)
        client_id, client_secret = form.get('client_id'), form.get('client_secret')
        authz = ctx.headers.get('Authorization') or ''
        if authz[:6].lower() == 'basic ':
            try:
                decoded = base64.b64decode(authz[6:].strip(), validate=True).decode('utf-8')
            except (ValueError, UnicodeDecodeError):
                return json_reply(400, {'error': 'invalid_client'}, no_store)
            basic_id, _sep, basic_secret = decoded.partition(':')
            client_id, client_secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        client = self._client(client_id)
        usable = client is not None and client['grantType'] == GRANT_CC and client['isActive']
        secret = self._secrets.get(client['clientId']) if usable else None
        if (not secret or not isinstance(client_secret, str)
                or not secrets.compare_digest(client_secret.encode('utf-8'), secret.encode('utf-8'))):
            refused = {'error': 'invalid_client'}
            if self._config['echo_credentials'] and isinstance(client_secret, str):
                refused['error_description'] = echoed(client_secret)
            return json_reply(400, refused, no_store)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = {'clientId': client['clientId'], 'expires': time.monotonic() + self.token_ttl}
        ctx.user = self._user_by_id(client['systemUserId'])
        return json_reply(200, {'access_token': token, 'expires_in': self.token_ttl, 'token_type': 'Bearer',
                                'scope': self._scope}, no_store)

    def _discovery_document(self, ctx):
        issuer = f'{ctx.base}/identity'
        return {
            'issuer': issuer,
            'jwks_uri': f'{issuer}/.well-known/openid-configuration/jwks',
            **({'authorization_endpoint': f'{issuer}/connect/authorize'} if self._config['authorize_endpoint'] == 'on' else {}),
            'token_endpoint': f'{issuer}/connect/token',
            'userinfo_endpoint': f'{issuer}/connect/userinfo',
            'end_session_endpoint': f'{issuer}/connect/endsession',
            'check_session_iframe': f'{issuer}/connect/checksession',
            'revocation_endpoint': f'{issuer}/connect/revocation',
            'introspection_endpoint': f'{issuer}/connect/introspect',
            'frontchannel_logout_supported': True,
            'frontchannel_logout_session_supported': True,
            'backchannel_logout_supported': True,
            'backchannel_logout_session_supported': True,
            'scopes_supported': ['openid', 'profile', 'offline_access', self._scope],
            'claims_supported': ['sub', 'name', 'preferred_username'],
            'grant_types_supported': [GRANT_CODE, GRANT_CC, 'refresh_token'],
            'response_types_supported': ['code'],
            'response_modes_supported': ['form_post', 'query', 'fragment'],
            'token_endpoint_auth_methods_supported': ['client_secret_basic', 'client_secret_post'],
            'id_token_signing_alg_values_supported': ['RS256'],
            'subject_types_supported': ['public'],
            'code_challenge_methods_supported': ['plain', 'S256'],
            'request_parameter_supported': True,
        }

    def _openid_configuration(self, ctx):
        """Creatio 8.3's anonymous {api}/.well-known/openid-configuration (built from its settings:
        answers also while the Identity Service is down, ASSUMED)."""
        if ctx.method != 'GET':
            return html_reply(405, NOT_FOUND_PAGE)
        return json_reply(200, self._discovery_document(ctx))

    def _identity_discovery(self, ctx):
        """The Identity Service's own discovery document and its (empty) key set."""
        if ctx.method != 'GET':
            return json_reply(405, {'error': 'invalid_request'})
        if not self._config['identity_up']:
            return html_reply(503, UNAVAILABLE_PAGE)
        if ctx.path.endswith('/jwks'):
            return json_reply(200, {'keys': []})
        return json_reply(200, self._discovery_document(ctx))

    def _authorize(self, ctx):
        """The Identity Service's authorization endpoint as IdentityServer answers it (ASSUMED, contract
        section 2): the client, then the redirect URI are checked before any login; an error page (HTTP
        400, HTML) for either, else a redirect (to the login page, or an error to the registered URI).
        It never reads cookies; what it was sent is logged as ``auth`` (the collection must send none)."""
        if ctx.headers.get('Authorization'):
            ctx.auth = 'bearer'
        elif ctx.headers.get('Cookie'):
            ctx.auth = 'forms'
        if ctx.method != 'GET':
            return html_reply(405, NOT_FOUND_PAGE)
        if not self._config['identity_up']:
            return html_reply(503, UNAVAILABLE_PAGE)
        query = dict(parse_qsl(ctx.query, keep_blank_values=True))
        client = self._client(query.get('client_id'))
        if not query.get('client_id'):
            return html_reply(400, self._error_page('authorize_bad_request'))
        if client is None or not client['isActive'] or client['grantType'] != GRANT_CODE:
            return html_reply(400, self._error_page('authorize_unknown_client'))
        redirect = query.get('redirect_uri')
        if not redirect or redirect not in [r['redirectUrl'] for r in client['redirectUrls']]:
            return html_reply(400, self._error_page('authorize_bad_redirect'))
        separator = '&' if '?' in redirect else '?'
        if query.get('response_type') != 'code':
            return html_reply(302, b'', [('Location', f'{redirect}{separator}error=unsupported_response_type')])
        if not query.get('scope'):
            return html_reply(302, b'', [('Location', f'{redirect}{separator}error=invalid_scope')])
        login = f'{ctx.base}/identity/Account/Login?ReturnUrl={quote(ctx.target, safe="")}'
        return html_reply(302, b'', [('Location', login)])

    def _error_page(self, message_id):
        return (f'<!DOCTYPE html>\n<html><head><title>Error</title></head><body><div class="error-page">'
                f'<p>{self.text(message_id)}</p></div></body></html>\n').encode('utf-8')

    # ------------------------------------------------------------ OAuthConfigService

    def _service(self, ctx):
        denied = self._require_auth(ctx)
        if denied:
            return denied
        method = ctx.endpoint
        if (self._v81() and method in data.ONLY_83) or (method == 'GetClientSecret' and not self._config['get_client_secret']):
            return self._wcf_not_found()
        if ctx.method != 'POST':
            return _wcf_error(405, self.text('method_not_allowed'))
        if media_type(ctx.headers) != 'application/json':
            return _wcf_error(415, self.text('json_required'))
        param = SERVICE_METHODS[method]
        body = load_json(ctx.body)
        inner = body if param is None else (body.get(param) if isinstance(body, dict) else None)
        if not isinstance(inner, dict):
            message = self.text('bad_json') if param is None else self.text('wrapped', param=param)
            return _wcf_error(400, message, 'System.Runtime.Serialization.SerializationException')
        result = {'success': True, 'rowsAffected': -1, 'nextPrcElReady': False, 'errorInfo': None}
        try:
            if not self._config['oauth_feature']:
                raise _Fail(self.text('feature_off'), 'FeatureNotEnabledException')
            if not (self._config['admin_rights'] and ctx.user['admin']):
                raise _Fail(self.text('no_rights'), 'SecurityException')
            result.update(getattr(self, '_m_' + method)(inner, ctx) or {})
        except _BadRequest as exc:
            return _wcf_error(400, str(exc), 'System.Runtime.Serialization.SerializationException')
        except _Fail as exc:
            result['success'] = False
            result['errorInfo'] = {'errorCode': exc.code, 'message': exc.message, 'stackTrace': None}
        return json_reply(200, {f'{method}Result': result})

    def _unexpected(self, message_id, code='ArgumentException', **values):
        return _Fail(self.text('unexpected', text=self.text(message_id, **values)), code)

    def _get_str(self, inner, key):
        value = inner.get(key)
        if value is not None and not isinstance(value, str):
            raise _BadRequest(self.text('member_string', key=key))
        return value

    def _required(self, inner, key):
        value = self._get_str(inner, key)
        if value is None or not value.strip():
            raise self._unexpected('required', 'ArgumentNullOrEmptyException', key=key)
        return value

    def _check_identity(self):
        """What the OAuthClientApp listener meets at the Identity Service (it cancels the save)."""
        if not self._config['identity_up']:
            raise _Fail(self.text('identity_down', url=self.identity_url), 'ApiServerConnectivityException')
        if self._config['identity_refuses']:
            raise _Fail(self.text('identity_refuses'), 'ApiServerException')
        if not self._config['default_resource']:
            raise _Fail(self.text('no_default_resource'), 'DefaultResourceNotFoundException')

    def _valid_user(self, system_user):
        user = self._user_by_id(system_user)
        if user is None:
            raise _Fail(self.text('bad_user'), 'InvalidSystemUserException')
        return user

    def _new_row(self, url, ctx):
        return self._stamp({'id': str(uuid.uuid4()), 'redirectUrl': url}, ctx, created=True)

    def _m_AddClient(self, inner, ctx):  # pylint: disable=invalid-name
        name = self._required(inner, 'name')
        app_url = self._required(inner, 'applicationUrl')
        description = self._get_str(inner, 'description')
        system_user = self._get_str(inner, 'systemUserId')
        redirect = self._get_str(inner, 'redirectUrl')
        if self._v81():  # every client is a client credentials one; grantType is an unknown member
            grant = GRANT_CC
            user = self._valid_user(system_user)
        else:
            grant = self._get_str(inner, 'grantType')
            user = None
            if grant not in (GRANT_CC, GRANT_CODE):
                raise self._unexpected('grant_unsupported', grant=grant)
            if grant == GRANT_CC:
                if redirect:
                    raise self._unexpected('redirect_not_allowed', grant=GRANT_CC)
                user = self._valid_user(system_user)
            elif system_user:
                raise self._unexpected('user_not_allowed', grant=GRANT_CODE)
        self._check_identity()
        client_id = uuid.uuid4().hex.upper()
        secret = secrets.token_hex(32).upper()
        self._clients.append(self._stamp({
            'id': str(uuid.uuid4()), 'name': name, 'clientId': client_id, 'applicationUrl': app_url,
            'grantType': grant, 'systemUserId': user['id'] if user else None, 'isActive': True,
            'description': description or '', 'redirectUrls': [self._new_row(redirect, ctx)] if redirect else [],
            'seeded': False,
        }, ctx, created=True))
        self._secrets[client_id] = secret
        return {'clientId': client_id, 'clientSecret': secret}

    def _m_AddRedirectUrls(self, inner, ctx):  # pylint: disable=invalid-name
        client = self._client(self._get_str(inner, 'clientId'))
        urls = inner.get('redirectUrls')
        if urls is not None and (not isinstance(urls, list) or not all(isinstance(u, str) for u in urls)):
            raise _BadRequest(self.text('member_strings', key='redirectUrls'))
        if client is None:
            raise _Fail(self.text('no_record'), 'ItemNotFoundException')
        if client['grantType'] != GRANT_CODE:
            raise self._unexpected('redirects_not_allowed', grant=client['grantType'])
        if urls is None:
            raise self._unexpected('required', 'ArgumentNullOrEmptyException', key='redirectUrls')
        if any(not u.strip() for u in urls):
            raise self._unexpected('empty_values', 'ArgumentNullOrEmptyException', key='redirectUrls')
        added = [self._new_row(u, ctx) for u in urls]
        client['redirectUrls'].extend(added)
        return {'redirectUrls': [{'id': r['id'], 'redirectUrl': r['redirectUrl']} for r in added]}

    def _m_UpdateRedirectUrl(self, inner, ctx):  # pylint: disable=invalid-name
        redirect_id = self._get_str(inner, 'redirectUrlId')
        url = self._get_str(inner, 'redirectUrl')
        _client, row = self._redirect(redirect_id)
        if row is None:
            raise _Fail(self.text('no_record'), 'ItemNotFoundException')
        if url is None or not url.strip():
            raise self._unexpected('required', 'ArgumentNullOrEmptyException', key='redirectUrl')
        row['redirectUrl'] = url
        self._stamp(row, ctx)
        return {}

    def _m_DeleteRedirectUrl(self, inner, ctx):  # pylint: disable=invalid-name
        del ctx
        client, row = self._redirect(self._get_str(inner, 'redirectUrlId'))
        if row is None:
            raise _Fail(self.text('no_record'), 'ItemNotFoundException')
        client['redirectUrls'].remove(row)
        return {}

    def _m_UpdateClient(self, inner, ctx):  # pylint: disable=invalid-name
        client = self._client(self._get_str(inner, 'clientId'))
        changes = {}
        for key in ('name', 'applicationUrl'):
            value = self._get_str(inner, key)
            if value is not None:
                if not value.strip():
                    raise self._unexpected('required', 'ArgumentNullOrEmptyException', key=key)
                changes[key] = value
        description = self._get_str(inner, 'description')
        if description is not None:
            changes['description'] = description
        system_user = self._get_str(inner, 'systemUserId')
        redirect = self._get_str(inner, 'redirectUrl')
        active = inner.get('isActive')
        if active is not None and not isinstance(active, bool):
            raise _BadRequest(self.text('member_bool', key='isActive'))
        if client is None:
            raise _Fail(self.text('no_record'), 'ItemNotFoundException')
        if system_user:
            if client['grantType'] != GRANT_CC and not self._v81():
                raise self._unexpected('user_not_allowed', grant=client['grantType'])
            changes['systemUserId'] = self._valid_user(system_user)['id']
        if active is not None:
            changes['isActive'] = active
        self._check_identity()
        if redirect is not None and self._v81():  # 8.1: the one redirect URI (8.3 ignores it: ASSUMED)
            client['redirectUrls'] = [self._new_row(redirect, ctx)] if redirect.strip() else []
        client.update(changes)
        self._stamp(client, ctx)
        return {}

    def _m_DeleteClient(self, inner, ctx):  # pylint: disable=invalid-name
        del ctx
        client = self._client(self._get_str(inner, 'clientId'))
        if client is None:
            raise _Fail(self.text('no_record'), 'ItemNotFoundException')
        self._check_identity()
        self._clients.remove(client)
        self._secrets.pop(client['clientId'], None)
        self._tokens = {k: v for k, v in self._tokens.items() if v['clientId'] != client['clientId']}
        return {}

    def _m_GetClientSecret(self, inner, ctx):  # pylint: disable=invalid-name
        del ctx
        record_id = canonical_guid(self._get_str(inner, 'clientAppId'))
        client = next((c for c in self._clients if c['id'] == record_id), None)
        if client is None:
            raise _Fail(self.text('no_record'), 'ItemNotFoundException')
        return {'clientSecret': self._secrets.get(client['clientId'], '')}

    def _m_CreateTechnicalUser(self, inner, ctx):  # pylint: disable=invalid-name
        name = self._required(inner, 'name').strip()
        if any(u['type'] == USER_TYPE and u['name'].lower() == name.lower() for u in self._units):
            raise self._unexpected('user_exists', 'DuplicateDataException', name=name)
        unit = self._seed_unit(str(uuid.uuid4()), name, USER_TYPE, contact=str(uuid.uuid4()), technical=True,
                               created=self._now(), creator=ctx.user['contactId'])
        self._units.append(unit)
        return {'systemUserId': unit['id']}

    # ------------------------------------------------------------ OData

    def _entities(self):
        """The entity sets this site's OData service has now."""
        entities = [data.OAUTH_CLIENT_APP, data.SYS_ADMIN_UNIT]
        if not self._v81() and self._config['redirect_entity'] == 'readable':
            entities.append(data.redirect_entity(self._config['redirect_entity_name']))
        return entities

    def _odata_gate(self, ctx, what):
        denied = self._require_auth(ctx)
        if denied:
            return denied
        if ctx.method != 'GET':
            return _odata_error(405, self.text('odata_method'))
        if self._config['odata_status']:
            return _odata_error(self._config['odata_status'], self.text('odata_denied', entity=what))
        return None

    def _odata_root(self, ctx):
        return f'{ctx.base}{self.site_path}{self._api_prefix()}/odata'

    def _metadata(self, ctx):
        denied = self._odata_gate(ctx, '$metadata')
        if denied:
            return denied
        return xml_reply(200, odata.metadata_document(self._entities()))

    def _odata_service(self, ctx):
        denied = self._odata_gate(ctx, 'OData')
        if denied:
            return denied
        root = self._odata_root(ctx)
        return json_reply(200, {'@odata.context': f'{root}/$metadata',
                                'value': [{'name': e.name, 'kind': 'EntitySet', 'url': e.name} for e in self._entities()]})

    def _rows(self, entity):
        if entity.name == 'OAuthClientApp':
            return [self._client_row(c) for c in self._clients]
        if entity.name == 'SysAdminUnit':
            return [self._unit_row(u) for u in self._units]
        return [self._redirect_row(c, r) for c in self._clients for r in c['redirectUrls']]

    @staticmethod
    def _audit(record):
        return {'Id': record['id'], 'CreatedOn': record['createdOn'], 'CreatedById': record['createdById'],
                'ModifiedOn': record['modifiedOn'], 'ModifiedById': record['modifiedById']}

    def _client_row(self, client):
        row = self._audit(client)
        row.update({'Name': client['name'], 'ClientId': client['clientId'],
                    'RedirectUrl': client['redirectUrls'][0]['redirectUrl'] if client['redirectUrls'] else '',
                    'ApplicationUrl': client['applicationUrl'], 'IsActive': client['isActive'],
                    'SystemUserId': client['systemUserId'], 'Description': client['description']})
        return row

    def _unit_row(self, unit):
        row = self._audit(unit)
        row.update({'Name': unit['name'], 'Description': unit['description'], 'SysAdminUnitTypeValue': unit['type'],
                    'Active': unit['active'], 'ContactId': unit['contactId'], 'ConnectionType': 0})
        return row

    def _redirect_row(self, client, redirect):
        row = self._audit(redirect)
        row.update({'OAuthClientAppId': client['id'], 'RedirectUrl': redirect['redirectUrl']})
        return row

    def _odata(self, ctx):  # pylint: disable=too-many-return-statements,too-many-locals
        name = ctx.path.split('/odata/', 1)[1]
        denied = self._odata_gate(ctx, name)
        if denied:
            return denied
        entity = next((e for e in self._entities() if e.name == name), None)
        if entity is None:
            return _odata_error(404, self.text('odata_no_entity_set', name=name))
        if entity.name == 'SysAdminUnit' and self._config['sysadminunit_status']:
            return _odata_error(self._config['sysadminunit_status'], self.text('odata_denied', entity=entity.name))
        opts = {}
        for key, value in parse_qsl(ctx.query, keep_blank_values=True):
            if not key.startswith('$'):
                continue
            if key not in ODATA_OPTIONS or key in opts:
                return _odata_error(400, self.text('odata_query_option', key=key))
            opts[key] = value
        try:
            tree = odata.parse_filter(entity, opts['$filter']) if '$filter' in opts else None
            columns = odata.parse_select(entity, opts['$select']) if '$select' in opts else list(entity.readable)
            order = odata.parse_orderby(entity, opts['$orderby']) if '$orderby' in opts else []
        except odata.ODataError as exc:
            return _odata_error(400, self.text(exc.key, **exc.values))
        numbers = {}
        for key in ('$skip', '$top'):
            if key in opts:
                if not opts[key].isdigit():
                    return _odata_error(400, self.text('odata_value', value=opts[key], key=key))
                numbers[key] = int(opts[key])
        insensitive = self._config['database'] == 'mssql'
        rows = [r for r in self._rows(entity) if tree is None or odata.matches(tree, r, entity, insensitive)]
        if order:
            rows = odata.sort_rows(rows, order, entity)
        skip = numbers.get('$skip', 0)
        rows = rows[skip:]
        if '$top' in numbers:
            rows = rows[:numbers['$top']]
        page = rows[:self.odata_page_size]
        root = self._odata_root(ctx)
        context = f'{root}/$metadata#{entity.name}'
        if '$select' in opts:
            context += f'({",".join(columns)})'
        document = {'@odata.context': context, 'value': [{c: r[c] for c in columns} for r in page]}
        if len(rows) > len(page):
            params = [(k, v) for k, v in opts.items() if k not in ('$skip', '$top')]
            params.append(('$skip', str(skip + len(page))))
            if '$top' in numbers:
                params.append(('$top', str(numbers['$top'] - len(page))))
            document['@odata.nextLink'] = f'{root}/{entity.name}?' + urlencode(params, quote_via=quote, safe="$,'")
        return json_reply(200, document)

    # ------------------------------------------------------------ control API

    def activity(self):
        """Requests in flight, triggers pending and fired."""
        with self._lock:
            return {'in_flight': self._in_flight, 'pending_triggers': [t['label'] for t in self._triggers],
                    'fired': list(self.fired)}

    def admin(self, method, path, body, client_host):
        """Answer a /_sim/... request (loopback clients only, not logged)."""
        if not is_loopback(client_host):
            return json_reply(403, {'error': 'the admin API only answers loopback clients'})
        request = {}
        if body.strip():
            request = load_json(body)
            if not isinstance(request, dict):
                return json_reply(400, {'error': 'body must be a JSON object'})
        gets = {'/_sim/state': self.state, '/_sim/log': self.log, '/_sim/config': lambda: self.state()['config'],
                '/_sim/secrets': self.issued_secrets, '/_sim/activity': self.activity,
                '/_sim/site': self.describe}
        posts = {'/_sim/log/clear': self.clear_log, '/_sim/reset': self.reset, '/_sim/rotate_csrf': self.rotate_csrf}
        with_body = ('/_sim/config', '/_sim/expire', '/_sim/units')
        try:
            if method == 'GET' and path in gets:
                return json_reply(200, gets[path]())
            if method == 'POST' and path in posts:
                posts[path]()
                return json_reply(200, {'ok': True})
            if method == 'POST' and path == '/_sim/config':
                return json_reply(200, self.configure(**request))
            if method == 'POST' and path == '/_sim/expire':
                unknown = set(request) - {'sessions', 'tokens', 'mode'}
                if unknown:
                    raise ValueError(f'unknown keys: {sorted(unknown)}')
                self.expire(**request)
                return json_reply(200, {'ok': True})
            if method == 'POST' and path == '/_sim/units':
                unknown = set(request) - {'name', 'type', 'password', 'admin', 'active'}
                if unknown:
                    raise ValueError(f'unknown keys: {sorted(unknown)}')
                if 'type' in request:
                    request['unit_type'] = request.pop('type')
                return json_reply(200, self.add_unit(**request))
        except (ValueError, TypeError) as exc:
            return json_reply(400, {'error': str(exc)})
        if path in gets or path in posts or path in with_body:
            return json_reply(405, {'error': 'method not allowed'})
        return json_reply(404, {'error': 'unknown admin call'})


def echoed(value):
    """A careless server's echo of a credential it refused (switch echo_credentials): JSON-escaped both
    ways, percent-encoded and form-encoded (not raw, for a value with a quote or a backslash)."""
    forms = (json.dumps(value), json.dumps(value, ensure_ascii=False), quote(value, safe=''), urlencode({'value': value}))
    return '(received %s)' % ', '.join(forms)
