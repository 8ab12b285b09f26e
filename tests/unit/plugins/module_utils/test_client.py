# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CreatioClient against the simulator over real HTTP on 127.0.0.1, plus a few wire shapes the
simulator never produces (through a scripted transport).

Assertions are on the simulator's request log and state, and every error is checked for secrets:
the password, the client secret, every cookie value and every token seen on the wire.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


import json
import os
import stat

import pytest
import requests

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._client import REDACTED
from ansible_collections.creatio.oauth.plugins.module_utils._odata import odata_quote
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, BusinessError, CreatioError, HttpError, NotCreatioEndpointError, ReadNotPermittedError,
    RecordNotFoundError, TransportError, UnreadableAnswerError)
from ansible_collections.creatio.oauth.plugins.module_utils._session_store import SessionStore
from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport, RetryPolicy
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import (
    ADMIN, ADMIN_PASSWORD, client_for, forms_login, oauth_login)

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET, POWERBI_USER_ID  # pylint: disable=import-error

# Quotes and backslashes: the login body must be built by a JSON encoder.
WRONG_PASSWORD = 'Wr0ng"pass\\word\'!'


def cc_request(name='PowerBI', user=POWERBI_USER_ID):
    return {'name': name, 'applicationUrl': 'https://app.powerbi.com', 'grantType': 'client_credentials', 'systemUserId': user}


def code_request(name='Outlook'):
    return {'name': name, 'applicationUrl': 'https://outlook.office.com', 'grantType': 'authorization_code'}


class RecordingTransport(HttpTransport):
    """HttpTransport that records every request it really sends (each attempt) and every secret
    that crossed the wire: cookie values set by Creatio and access tokens."""

    def __init__(self, *args, **kwargs):
        super(RecordingTransport, self).__init__(*args, **kwargs)
        self.attempts = []
        self.wire_secrets = set()
        real = self._session.request

        def recording(method, url, **kw):
            self.attempts.append({'method': method, 'url': url, 'headers': dict(kw.get('headers') or {})})
            response = real(method, url, **kw)
            for cookie in response.cookies:
                if cookie.name != 'UserName' and cookie.value:  # the user name is not a secret
                    self.wire_secrets.add(cookie.value)
            try:
                token = response.json().get('access_token') if 'json' in response.headers.get('Content-Type', '') else None
            except (ValueError, AttributeError):
                token = None
            if token:
                self.wire_secrets.add(token)
            return response

        self._session.request = recording


def fast_retry(attempts=3):
    return RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.002)


def transport(timeout=5.0, retry=None, sleeps=None):
    sleep = sleeps.append if sleeps is not None else (lambda seconds: None)
    return RecordingTransport(timeout=timeout, retry=retry or fast_retry(), sleep=sleep)


def forms_client(site_url, username=ADMIN, password=ADMIN_PASSWORD, store=None, **transport_kwargs):
    return client_for(site_url, forms_login(site_url.rstrip('/'), username, password), transport(**transport_kwargs),
                      session_store=store)


def bearer_client(sim, secret=AUTOMATION_CLIENT_SECRET, store=None, **transport_kwargs):
    login = oauth_login(sim.identity_url, AUTOMATION_CLIENT_ID, secret)
    return client_for(sim.url, login, transport(**transport_kwargs), session_store=store)


def entries(sim, endpoint=None, kind=None):
    return [e for e in sim.log() if (endpoint is None or e['endpoint'] == endpoint) and (kind is None or e['kind'] == kind)]


def assert_no_secret(exc, client, *extra):
    """No password, client secret, cookie value or token in any text of the error."""
    secrets = set(extra) | set(client.transport.wire_secrets) | set(s for s in client.login_method.secrets() if s)
    secrets.add(getattr(client.login_method, '_password', None))
    secrets.add(getattr(client.login_method, '_client_secret', None))
    secrets.discard(None)
    secrets.discard('')
    texts = [str(exc), exc.full_message(), exc.message, exc.creatio_message or '', exc.hint or '', repr(exc.args),
             json.dumps(exc.details())]
    for secret in secrets:
        for text in texts:
            assert secret not in text, 'a secret leaked into an error text: %r' % text


# --- forms login, CSRF, result unwrapping ------------------------------------------------------------

def test_forms_login_csrf_on_every_post_and_unwrapped_results(sim):
    client = forms_client(sim.url)
    created = client.call('AddClient', code_request())
    # unwrapped: the inner result, not {"AddClientResult": {...}}
    assert created['success'] is True and 'AddClientResult' not in created
    assert len(created['clientId']) == 32 and created['clientSecret']
    added = client.call('AddRedirectUrls', {'clientId': created['clientId'], 'redirectUrls': ['https://a.example/cb', 'https://b.example/cb']})
    rows = api.parse_added_redirect_urls(added)
    assert [url for _id, url in rows] == ['https://a.example/cb', 'https://b.example/cb'] and all(rid for rid, _url in rows)
    client.call('UpdateRedirectUrl', {'redirectUrlId': rows[0][0], 'redirectUrl': 'https://c.example/cb'})
    client.call('DeleteRedirectUrl', {'redirectUrlId': rows[1][0]})
    client.call('UpdateClient', {'clientId': created['clientId'], 'isActive': False})
    read = client.odata_clients(names=['Outlook'])
    assert [r['ClientId'] for r in read] == [created['clientId']] and read[0]['IsActive'] is False
    client.call('DeleteClient', {'clientId': created['clientId']})

    log = sim.log()
    writes = [e for e in log if e['kind'] == 'write']
    assert [e['endpoint'] for e in writes] == ['AddClient', 'AddRedirectUrls', 'UpdateRedirectUrl', 'DeleteRedirectUrl',
                                               'UpdateClient', 'DeleteClient']
    assert all(e['csrf'] is True and e['auth'] == 'forms' and e['status'] == 200 for e in writes)
    assert [e['endpoint'] for e in log].count('Login') == 1
    reads = [e for e in log if e['kind'] == 'read']
    assert len(reads) == 1 and reads[0]['csrf'] is None and reads[0]['auth'] == 'forms'
    # the BPMCSRF header goes on POSTs only, never on the GET
    posts = [a for a in client.transport.attempts if a['method'] == 'POST' and '/0/rest/' in a['url']]
    assert posts and all(a['headers'].get('BPMCSRF') for a in posts)
    gets = [a for a in client.transport.attempts if a['method'] == 'GET']
    assert gets and all('BPMCSRF' not in a['headers'] for a in gets)
    # the requests session jar stays empty: auth.py sends exactly the cookies it means to
    assert len(client.transport._session.cookies) == 0
    assert [e['endpoint'] for e in sim.log()].count('Login') == 1
    assert [c['name'] for c in sim.state()['clients']] == ['Ansible automation']


def test_login_refused_code_1(sim):
    client = forms_client(sim.url, password=WRONG_PASSWORD)
    with pytest.raises(AuthenticationError) as info:
        client.call('AddClient', cc_request())
    exc = info.value
    assert exc.creatio_message == 'Either user name or password is incorrect.'
    assert exc.call == 'Login' and exc.status == 200
    assert 'creatio_password' in exc.hint
    assert_no_secret(exc, client, WRONG_PASSWORD)
    assert entries(sim, 'AddClient') == [] and len(entries(sim, 'Login')) == 1


def test_login_wrong_virtual_directory_is_http_404_with_hint(sim):
    client = forms_client(sim.url + '/NoSuchApp')
    with pytest.raises(HttpError) as info:
        client.odata_clients()
    assert info.value.status == 404 and 'site root' in info.value.hint
    assert_no_secret(info.value, client)


@pytest.mark.parametrize('setup, request_maker, hint_word, message_word', [
    (None, lambda: cc_request(user='11111111-2222-3333-4444-555555555555'), 'system_user_id', 'system user is not valid'),
    ({'oauth_feature': False}, cc_request, 'OAuth20Integration', 'OAuth20Integration'),
    ({'admin_rights': False}, cc_request, 'CanManageSolution', 'CanManageSolution'),
])
def test_business_errors_carry_creatio_message_and_hint(sim, setup, request_maker, hint_word, message_word):
    if setup:
        sim.configure(**setup)
    client = forms_client(sim.url)
    with pytest.raises(BusinessError) as info:
        client.call('AddClient', request_maker())
    exc = info.value
    assert not isinstance(exc, RecordNotFoundError)
    assert message_word.lower() in exc.creatio_message.lower()
    assert hint_word in exc.hint
    assert exc.call == 'AddClient' and exc.status == 200 and exc.error_code
    assert 'Creatio said: %s' % exc.creatio_message in exc.full_message()
    assert_no_secret(exc, client)
    assert [c['name'] for c in sim.state()['clients']] == ['Ansible automation']


def test_business_error_for_a_user_without_rights(sim):
    client = forms_client(sim.url, username='Viewer', password='Viewer')
    with pytest.raises(BusinessError) as info:
        client.call('AddClient', cc_request())
    assert 'CanManageSolution' in info.value.hint
    assert_no_secret(info.value, client, 'Viewer-not-a-secret-marker')


@pytest.mark.parametrize('method, payload', [
    ('DeleteClient', {'clientId': 'ffffffffffffffffffffffffffffffff'}),
    ('UpdateRedirectUrl', {'redirectUrlId': '11111111-2222-3333-4444-555555555555', 'redirectUrl': 'https://x.example/cb'}),
    ('DeleteRedirectUrl', {'redirectUrlId': '11111111-2222-3333-4444-555555555555'}),
])
def test_record_not_found(sim, method, payload):
    client = forms_client(sim.url)
    with pytest.raises(RecordNotFoundError) as info:
        client.call(method, payload)
    assert info.value.creatio_message == 'Record with specified Id does not exist.'
    assert 'stale' in info.value.hint
    assert_no_secret(info.value, client)


# --- expired sessions, CSRF rotation ----------------------------------------------------------------

@pytest.mark.parametrize('mode, refused_status', [('json', 401), ('html', 302)])
def test_expired_session_one_relogin_then_replay(sim, mode, refused_status):
    client = forms_client(sim.url)
    client.call('AddClient', cc_request('First'))
    sim.expire(mode=mode)
    second = client.call('AddClient', cc_request('Second'))
    assert second['clientId']
    sim.expire(mode=mode)
    assert [r['Name'] for r in client.odata_clients(names=['Second'])] == ['Second']

    log = sim.log()
    assert [e['endpoint'] for e in log] == ['Login', 'AddClient', 'AddClient', 'Login', 'AddClient', 'OData', 'Login', 'OData']
    assert [e['status'] for e in log] == [200, 200, refused_status, 200, 200, refused_status, 200, 200]
    # the refused AddClient did nothing: exactly the two clients exist
    assert sorted(c['name'] for c in sim.state()['clients']) == ['Ansible automation', 'First', 'Second']


def test_rotated_csrf_one_relogin_then_replay(sim):
    client = forms_client(sim.url)
    client.call('AddClient', cc_request('First'))
    sim.rotate_csrf()
    client.call('AddClient', cc_request('Second'))
    log = sim.log()
    assert [(e['endpoint'], e['status'], e['csrf']) for e in log] == [
        ('Login', 200, None), ('AddClient', 200, True), ('AddClient', 403, False), ('Login', 200, None), ('AddClient', 200, True)]
    assert sorted(c['name'] for c in sim.state()['clients']) == ['Ansible automation', 'First', 'Second']


def test_session_refused_twice_is_not_replayed_again(sim):
    """A refusal right after a fresh login is classified, not replayed forever."""
    client = forms_client(sim.url)
    client.odata_clients()
    sim.configure(faults=[{'endpoint': 'OData', 'status': 401, 'count': 2}])
    with pytest.raises(ReadNotPermittedError) as info:
        client.odata_clients()
    assert len(entries(sim, 'Login')) == 2 and len(entries(sim, 'OData')) == 3
    assert_no_secret(info.value, client)


# --- endpoints that are not Creatio -------------------------------------------------------------------

def test_html_site_is_not_a_creatio_endpoint_forms(html_site):
    client = forms_client(html_site, password='Html-Site-Password-1')
    with pytest.raises(NotCreatioEndpointError) as info:
        client.call('AddClient', cc_request())
    exc = info.value
    text = exc.full_message()
    assert 'not a Creatio API endpoint' in text
    assert 'wrong creatio_url, or a single sign-on page in front of it' in text
    assert exc.status == 200
    assert_no_secret(exc, client, 'Html-Site-Password-1')


def test_html_site_is_not_a_creatio_endpoint_bearer(sim, html_site):
    login = oauth_login(sim.identity_url, AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET)
    client = client_for(html_site, login, transport())
    for action in (lambda: client.call('AddClient', cc_request()), client.odata_clients):
        with pytest.raises(NotCreatioEndpointError) as info:
            action()
        assert 'not a Creatio API endpoint' in info.value.full_message()
        assert 'wrong creatio_url, or a single sign-on page in front of it' in info.value.hint
        assert_no_secret(info.value, client)
    assert len(entries(sim, 'Token')) == 1


def test_html_identity_service_is_refused(sim):
    login = oauth_login(sim.url + '/not-identity', AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET)
    client = client_for(sim.url, login, transport())
    with pytest.raises(NotCreatioEndpointError) as info:
        client.odata_clients()
    assert 'creatio_identity_url' in info.value.hint
    assert_no_secret(info.value, client)


# --- retries, timeouts, lost answers ---------------------------------------------------------------

def test_503_on_a_read_is_retried(sim):
    sleeps = []
    client = forms_client(sim.url, retry=fast_retry(attempts=4), sleeps=sleeps)
    client.call('AddClient', cc_request())
    sim.clear_log()
    sim.configure(faults=[{'endpoint': 'OData', 'status': 503, 'count': 2}])
    rows = client.odata_clients(names=['PowerBI'])
    assert [r['Name'] for r in rows] == ['PowerBI']
    assert [e['status'] for e in entries(sim, 'OData')] == [503, 503, 200]
    assert len(sleeps) == 2 and client.transport.retries_done == 2
    assert entries(sim, 'Login') == []


def test_503_on_a_read_gives_up_after_the_attempts(sim):
    client = forms_client(sim.url, retry=fast_retry(attempts=3))
    sim.configure(faults=[{'endpoint': 'OData', 'status': 503, 'count': None}])
    with pytest.raises(HttpError) as info:
        client.odata_clients()
    assert info.value.status == 503 and 're-run is safe' in info.value.hint
    assert len(entries(sim, 'OData')) == 3
    assert_no_secret(info.value, client)


def test_503_on_add_client_is_never_repeated(sim):
    client = forms_client(sim.url, retry=fast_retry(attempts=4))
    sim.configure(faults=[{'endpoint': 'AddClient', 'status': 503, 'count': 1}])
    with pytest.raises(HttpError) as info:
        client.call('AddClient', cc_request())
    assert info.value.status == 503 and info.value.call == 'AddClient'
    assert len(entries(sim, 'AddClient')) == 1
    assert client.transport.retries_done == 0
    assert_no_secret(info.value, client)


def test_429_retry_after_is_honoured(sim):
    sleeps = []
    client = forms_client(sim.url, retry=RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002, max_retry_after=60),
                          sleeps=sleeps)
    client.odata_clients()
    sim.configure(faults=[{'endpoint': 'OData', 'status': 429, 'count': 1, 'retry_after': 7},
                          {'endpoint': 'OData', 'status': 429, 'count': 1, 'retry_after': 120},
                          {'endpoint': 'OData', 'status': 503, 'count': 1}])
    client.odata_clients()
    assert sleeps[0] == 7.0
    assert sleeps[1] == 60  # capped by max_retry_after
    assert 0 <= sleeps[2] <= 0.002  # no Retry-After: our own (tiny) backoff
    assert [e['status'] for e in entries(sim, 'OData')] == [200, 429, 429, 503, 200]


def test_429_on_add_client_is_not_retried(sim):
    sleeps = []
    client = forms_client(sim.url, sleeps=sleeps)
    sim.configure(faults=[{'endpoint': 'AddClient', 'status': 429, 'count': 1, 'retry_after': 1}])
    with pytest.raises(HttpError) as info:
        client.call('AddClient', cc_request())
    assert info.value.status == 429 and 'rate limiting' in info.value.hint
    assert sleeps == [] and len(entries(sim, 'AddClient')) == 1
    assert_no_secret(info.value, client)


def test_read_timeout_is_a_clear_transport_error(sim):
    client = forms_client(sim.url, retry=fast_retry(attempts=2))
    client.odata_clients()  # logged in with a comfortable timeout, whatever the machine load
    client.transport.timeout = 0.3
    sim.configure(faults=[{'endpoint': 'OData', 'delay': 1.0, 'count': None}])
    with pytest.raises(TransportError) as info:
        client.odata_clients()
    exc = info.value
    assert 'no answer within the timeout' in exc.message
    assert 'request_timeout (0.3 s)' in exc.hint
    assert exc.may_have_reached_server is True
    assert client.transport.retries_done == 1
    assert_no_secret(exc, client)


def test_dropped_connection_after_add_client_acted(sim):
    client = forms_client(sim.url, retry=fast_retry(attempts=4))
    sim.configure(faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'after', 'count': 1}])
    with pytest.raises(TransportError) as info:
        client.call('AddClient', cc_request())
    exc = info.value
    assert exc.may_have_reached_server is True
    assert 'closed before an answer came' in exc.message
    add_calls = entries(sim, 'AddClient')
    assert len(add_calls) == 1 and add_calls[0]['status'] is None
    assert [c['name'] for c in sim.state()['clients']] == ['Ansible automation', 'PowerBI']  # the server acted
    assert_no_secret(exc, client)


def test_connection_refused_is_never_sent():
    import socket  # pylint: disable=import-outside-toplevel
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    sleeps = []
    client = forms_client('http://127.0.0.1:%d' % port, retry=fast_retry(attempts=3), sleeps=sleeps)
    with pytest.raises(TransportError) as info:
        client.call('AddClient', cc_request())
    assert info.value.may_have_reached_server is False
    assert 'could not be opened' in info.value.message
    assert len(sleeps) == 2  # never sent: even the login may be retried
    assert_no_secret(info.value, client)


# --- bearer (client credentials) -------------------------------------------------------------------

def test_bearer_login_for_calls_and_odata(sim):
    client = bearer_client(sim)
    created = client.call('AddClient', cc_request())
    rows = client.odata_clients(client_ids=[created['clientId']])
    assert [r['Name'] for r in rows] == ['PowerBI']
    log = sim.log()
    assert [e['endpoint'] for e in log] == ['Token', 'AddClient', 'OData']
    for entry in log[1:]:
        assert entry['auth'] == 'bearer' and entry['csrf'] is None and entry['user'] == ADMIN and entry['status'] == 200
    for attempt in client.transport.attempts[1:]:
        assert attempt['headers']['Authorization'].startswith('Bearer ')
        assert 'Cookie' not in attempt['headers'] and 'BPMCSRF' not in attempt['headers']
    assert 'Authorization' not in client.transport.attempts[0]['headers']  # the token request itself
    assert len(client.transport._session.cookies) == 0


def test_bearer_expired_token_one_new_token_then_replay(sim):
    client = bearer_client(sim)
    client.odata_clients()
    sim.expire(sessions=False, tokens=True)
    client.call('AddClient', cc_request())
    assert [(e['endpoint'], e['status']) for e in sim.log()] == [
        ('Token', 200), ('OData', 200), ('AddClient', 401), ('Token', 200), ('AddClient', 200)]


def test_bearer_refused_client(sim):
    client = bearer_client(sim, secret='not-the-automation-secret')
    with pytest.raises(AuthenticationError) as info:
        client.odata_clients()
    exc = info.value
    assert exc.creatio_message == 'invalid_client' and exc.status == 400 and exc.call == 'Token'
    assert 'creatio_client_secret' in exc.hint
    assert_no_secret(exc, client, 'not-the-automation-secret', AUTOMATION_CLIENT_SECRET)
    assert entries(sim, 'OData') == []


def test_bearer_token_endpoint_503(sim):
    sim.configure(faults=[{'endpoint': 'Token', 'status': 503, 'count': None}])  # a JSON 503 answer
    client = bearer_client(sim, retry=fast_retry(attempts=2))
    with pytest.raises(HttpError) as info:
        client.odata_clients()
    assert info.value.status == 503 and info.value.call == 'Token'
    assert len(entries(sim, 'Token')) == 2
    assert_no_secret(info.value, client)


def test_bearer_identity_service_down(sim):
    """Issue 14, defect 6: an outage answers 503 with an HTML page; the message says so, not 'wrong URL'."""
    sim.configure(identity_up=False)
    client = bearer_client(sim, retry=fast_retry(attempts=2))
    with pytest.raises(HttpError) as info:
        client.odata_clients()
    assert info.value.status == 503 and info.value.call == 'Token'
    assert 'answered HTTP 503' in info.value.message and 'creatio_identity_url' not in (info.value.hint or '')
    assert len(entries(sim, 'Token')) == 2
    assert_no_secret(info.value, client)


# --- OData -------------------------------------------------------------------------------------------

def test_odata_quotes_a_single_quote(sim):
    client = forms_client(sim.url)
    for name in ("O'Brien", 'O', "Brien'", "O''Brien"):
        client.call('AddClient', cc_request(name))
    rows = client.odata_clients(names=["O'Brien"])
    assert [r['Name'] for r in rows] == ["O'Brien"]
    rows = client.odata_clients(names=["O''Brien", "Brien'"])
    assert sorted(r['Name'] for r in rows) == ["Brien'", "O''Brien"]
    assert all(e['status'] == 200 for e in entries(sim, 'OData'))
    assert odata_quote("O'Brien") == "O''Brien"


def test_odata_paging_with_next_link(sim_factory):
    sim = sim_factory(odata_page_size=2)
    client = forms_client(sim.url)
    names = ['Paged %d' % i for i in range(1, 6)]
    for name in names:
        client.call('AddClient', cc_request(name))
    sim.clear_log()
    rows = client.odata_clients()
    assert sorted(r['Name'] for r in rows) == sorted(names + ['Ansible automation'])
    assert len(entries(sim, 'OData')) == 3
    sim.clear_log()
    rows = client.odata_clients(names=names)
    assert sorted(r['Name'] for r in rows) == names
    assert len(entries(sim, 'OData')) == 3
    assert set(rows[0]) == set(api.ODATA_FIELDS)  # ClientSecret never selected


@pytest.mark.parametrize('status', [403, 404])
def test_odata_refused(sim, status):
    sim.configure(odata_status=status)
    client = forms_client(sim.url)
    with pytest.raises(ReadNotPermittedError) as info:
        client.odata_clients(names=['x'])
    assert info.value.status == status
    assert info.value.creatio_message == 'Access to the OAuthClientApp entity is denied.'
    assert len(entries(sim, 'OData')) == 1 and len(entries(sim, 'Login')) == 1
    assert_no_secret(info.value, client)


def test_odata_refused_401_after_one_relogin(sim):
    sim.configure(odata_status=401)
    client = forms_client(sim.url)
    with pytest.raises(ReadNotPermittedError) as info:
        client.odata_clients()
    assert info.value.status == 401
    assert len(entries(sim, 'OData')) == 2 and len(entries(sim, 'Login')) == 2
    assert_no_secret(info.value, client)


# --- session store -----------------------------------------------------------------------------------

def test_session_store_reuse_and_stale_renewal(sim, tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    first = forms_client(sim.url, store=store)
    first.call('AddClient', cc_request('One'))
    second = forms_client(sim.url, store=SessionStore(str(tmp_path / 'sessions.json')))
    second.call('AddClient', cc_request('Two'))
    assert [e['endpoint'] for e in sim.log()] == ['Login', 'AddClient', 'AddClient']

    sessions_file = tmp_path / 'sessions.json'
    assert stat.S_IMODE(os.stat(str(sessions_file)).st_mode) == 0o600
    content = sessions_file.read_text()
    assert ADMIN_PASSWORD not in content.replace('"%s"' % ADMIN, '')  # the password is never stored

    sim.expire(mode='json')  # the stored session goes stale on the server
    sim.clear_log()
    third = forms_client(sim.url, store=SessionStore(str(tmp_path / 'sessions.json')))
    third.call('AddClient', cc_request('Three'))
    fourth = forms_client(sim.url, store=SessionStore(str(tmp_path / 'sessions.json')))
    fourth.odata_clients()
    assert [(e['endpoint'], e['status']) for e in sim.log()] == [
        ('AddClient', 401), ('Login', 200), ('AddClient', 200), ('OData', 200)]


def test_session_store_reuses_a_token(sim, tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    bearer_client(sim, store=store).odata_clients()
    other = bearer_client(sim, store=SessionStore(str(tmp_path / 'sessions.json')))
    other.odata_clients()
    assert [e['endpoint'] for e in sim.log()] == ['Token', 'OData', 'OData']
    assert AUTOMATION_CLIENT_SECRET not in (tmp_path / 'sessions.json').read_text()


def test_session_store_is_per_identity(sim, tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    forms_client(sim.url, store=store).odata_clients()
    bearer_client(sim, store=store).odata_clients()
    assert [e['endpoint'] for e in sim.log()] == ['Login', 'OData', 'Token', 'OData']


# --- scrubbing ---------------------------------------------------------------------------------------

def test_scrub_replaces_every_known_secret():
    login = forms_login('https://site.example', 'alice', 'p@ss-w0rd')
    login.cookies = {'.ASPXAUTH': 'ASPX-COOKIE-VALUE', 'BPMCSRF': 'csrf-token-value', 'BPMLOADER': 'abc'}
    client = client_for('https://site.example/', login, transport=None)
    exc = BusinessError('pw p@ss-w0rd cookie ASPX-COOKIE-VALUE', call='Login', creatio_message='csrf csrf-token-value',
                        hint='short abc user alice')
    client.scrub_error(exc)
    assert exc.message == 'pw %s cookie %s' % (REDACTED, REDACTED)
    assert exc.creatio_message == 'csrf %s' % REDACTED and exc.hint == 'short abc user alice'
    assert client.site_url == 'https://site.example'

    token_login = oauth_login('https://is.example', 'cid', 'client-secret-value')
    token_login.token = 'access-token-value'
    token_client = client_for('https://site.example', token_login, transport=None)
    exc = BusinessError('said client-secret-value', call='AddClient', creatio_message='token access-token-value',
                        hint='hint client-secret-value')
    token_client.scrub_error(exc)
    for text in (str(exc), exc.full_message(), exc.creatio_message, exc.hint, repr(exc.args)):
        assert 'client-secret-value' not in text and 'access-token-value' not in text
    assert exc.creatio_message == 'token ' + REDACTED


# --- wire shapes the simulator never sends (scripted transport) ----------------------------------------

def fake_response(status=200, body=None, ctype='application/json; charset=utf-8', text=None, headers=None, cookies=None):
    response = requests.Response()
    response.status_code = status
    response._content = (json.dumps(body) if body is not None else (text or '')).encode('utf-8')
    response.headers['Content-Type'] = ctype
    response.headers.update(headers or {})
    response.encoding = 'utf-8'
    for name, value in (cookies or {}).items():
        response.cookies.set(name, value)
    return response


class ScriptedTransport(object):
    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests = []
        self.wire_secrets = set()

    def request(self, method, url, call, safe, **kwargs):
        self.requests.append({'method': method, 'url': url, 'call': call, 'safe': safe, 'kwargs': kwargs})
        return self.responses.pop(0)


def token_client(*responses):
    login = oauth_login('https://is.example', 'cid', 'scripted-client-secret')
    token = fake_response(body={'access_token': 'scripted-access-token', 'expires_in': 3600})
    return client_for('https://site.example', login, ScriptedTransport(token, *responses))


def test_bare_result_object_is_tolerated():
    client = token_client(fake_response(body={'success': True, 'clientId': 'abc', 'clientSecret': 's'}))
    result = client.call('AddClient', cc_request())
    assert result['clientId'] == 'abc'
    sent = client.transport.requests[1]
    assert sent['kwargs']['json'] == {'addClientRequest': cc_request()}
    assert sent['safe'] is False and sent['url'] == 'https://site.example/0/rest/OAuthConfigService/AddClient'


def test_unwrap_result_shapes():
    assert api.unwrap_result('AddClient', {'AddClientResult': {'success': True}}) == {'success': True}
    assert api.unwrap_result('AddClient', {'addclientresult': {'success': True}}) == {'success': True}
    assert api.unwrap_result('AddClient', {'success': True, 'clientId': 'x'}) == {'success': True, 'clientId': 'x'}
    assert api.unwrap_result('AddClient', {'UpdateClientResult': {'success': True}}) == {'UpdateClientResult': {'success': True}}
    assert api.unwrap_result('AddClient', ['x']) == {}


def test_success_false_without_message_and_missing_success():
    client = token_client(fake_response(body={'AddClientResult': {'success': False}}), fake_response(body={}))
    with pytest.raises(BusinessError) as info:
        client.call('AddClient', cc_request())
    assert info.value.creatio_message == 'success: false without a message'
    # no success at all is no refusal: Creatio may have carried it out (the executor reads back)
    with pytest.raises(UnreadableAnswerError) as info:
        client.call('AddClient', cc_request())
    assert 'success is missing' in info.value.message


def test_server_echoing_a_secret_is_scrubbed():
    client = token_client(fake_response(body={'DeleteClientResult': {
        'success': False, 'errorInfo': {'message': 'bad token scripted-access-token for scripted-client-secret'}}}))
    with pytest.raises(BusinessError) as info:
        client.call('DeleteClient', {'clientId': 'x'})
    assert info.value.creatio_message == 'bad token %s for %s' % (REDACTED, REDACTED)
    assert_no_secret(info.value, client, 'scripted-access-token', 'scripted-client-secret')


def test_forms_login_echoing_the_password_is_scrubbed():
    login = forms_login('https://site.example', 'bob', 'Echoed-Pa55word')
    client = client_for('https://site.example', login, ScriptedTransport(
        fake_response(body={'Code': 1, 'Message': 'password Echoed-Pa55word is wrong'})))
    with pytest.raises(AuthenticationError) as info:
        client.odata_clients()
    assert info.value.creatio_message == 'password %s is wrong' % REDACTED
    assert_no_secret(info.value, client, 'Echoed-Pa55word')


@pytest.mark.parametrize('next_link', ['https://evil.example/0/odata/OAuthClientApp?$skip=2', 'SAME'])
def test_odata_next_link_elsewhere_or_looping_is_refused(next_link):
    first_link = 'https://site.example/0/odata/OAuthClientApp?$skip=2'
    pages = [fake_response(body={'value': [{'Name': 'a'}], '@odata.nextLink': first_link if next_link == 'SAME' else next_link})]
    if next_link == 'SAME':
        pages.append(fake_response(body={'value': [{'Name': 'b'}], '@odata.nextLink': first_link}))
    client = token_client(*pages)
    with pytest.raises(NotCreatioEndpointError) as info:
        client.odata_clients()
    assert 'paging' in info.value.message
    # the session never travelled to another host
    assert all(r['url'].startswith('https://site.example/') or r['call'] == 'Token' for r in client.transport.requests)


def test_odata_relative_next_link_is_followed():
    client = token_client(
        fake_response(body={'value': [{'Name': 'a'}], '@odata.nextLink': '/0/odata/OAuthClientApp?$skip=1'}),
        fake_response(body={'value': [{'Name': 'b'}]}))
    assert [r['Name'] for r in client.odata_clients()] == ['a', 'b']
    assert client.transport.requests[2]['url'] == 'https://site.example/0/odata/OAuthClientApp?$skip=1'


def test_redirect_elsewhere_after_a_new_login_is_not_creatio():
    login = forms_login('https://site.example', 'bob', 'pw-123456')
    login_ok = fake_response(body={'Code': 0}, cookies={'.ASPXAUTH': 'aspx-value', 'BPMCSRF': 'csrf-value'})
    to_login = fake_response(302, text='', ctype='text/html', headers={'Location': 'https://site.example/Login/NuiLogin.aspx?x=1'})
    client = client_for('https://site.example', login, ScriptedTransport(login_ok, to_login, login_ok, to_login),
                        platform='netframework')
    with pytest.raises(NotCreatioEndpointError) as info:
        client.call('UpdateClient', {'clientId': 'x', 'isActive': True})
    assert 'redirected' in info.value.message and 'x=1' not in info.value.message
    assert [r['url'] for r in client.transport.requests].count('https://site.example/ServiceModel/AuthService.svc/Login') == 2
    assert_no_secret(info.value, client, 'aspx-value', 'csrf-value', 'pw-123456')


def test_every_error_class_is_a_creatio_error():
    for cls in (AuthenticationError, BusinessError, HttpError, NotCreatioEndpointError, ReadNotPermittedError,
                RecordNotFoundError, TransportError):
        assert issubclass(cls, CreatioError)
