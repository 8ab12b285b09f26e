"""Tests of the Creatio simulator through real HTTP (standard library client only)."""

from __future__ import annotations

import base64
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import creatio_simulator as cs  # noqa: E402  pylint: disable=wrong-import-position
from sim_client import Client, add_cc, add_code, result, token_request  # noqa: E402  pylint: disable=wrong-import-position

SITE = '/CreatioApp'
HEX32 = re.compile(r'^[0-9A-F]{32}$')
HEX64 = re.compile(r'^[0-9A-F]{64}$')
GUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


@pytest.fixture(scope='module')
def sim():
    simulator = cs.Simulator(site_path=SITE, odata_page_size=2)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim):  # pylint: disable=redefined-outer-name
    sim.reset()
    cl = Client(sim)
    yield cl
    cl.close()


@pytest.fixture
def admin(client):  # pylint: disable=redefined-outer-name
    assert client.login().json()['Code'] == 0
    return client


# ---------------------------------------------------------------- login

def test_urls(sim):  # pylint: disable=redefined-outer-name
    assert sim.url == f'http://127.0.0.1:{sim.port}{SITE}'
    assert sim.identity_url == f'http://127.0.0.1:{sim.port}/identity'


def test_login_ok_sets_cookies(client):  # pylint: disable=redefined-outer-name
    resp = client.login()
    assert resp.status == 200
    assert resp.json() == {'Code': 0, 'Message': '', 'Exception': None, 'PasswordChangeUrl': None, 'RedirectUrl': None}
    raw = resp.headers.get_all('Set-Cookie')
    assert {c.split('=', 1)[0] for c in raw} == {'BPMLOADER', '.ASPXAUTH', 'BPMCSRF', 'UserName'}
    aspx = next(c for c in raw if c.startswith('.ASPXAUTH='))
    assert f'path={SITE}' in aspx and 'HttpOnly' in aspx
    assert 'path=/' in next(c for c in raw if c.startswith('BPMCSRF='))


@pytest.mark.parametrize('user,password', [('Supervisor', 'wrong'), ('Nobody', 'x'), ('PowerBIUser', ''), ('WebhookUser', 'WebhookUser')])
def test_login_code_1(client, user, password):  # pylint: disable=redefined-outer-name
    resp = client.login(user, password)
    assert resp.status == 200
    assert resp.json() == {'Code': 1, 'Message': cs.MSG_BAD_LOGIN, 'Exception': None, 'PasswordChangeUrl': None, 'RedirectUrl': None}
    assert '.ASPXAUTH' not in client.cookies


def test_login_wrong_key_case(client):  # pylint: disable=redefined-outer-name
    resp = client.request('POST', f'{SITE}/ServiceModel/AuthService.svc/Login', {'userName': 'Supervisor', 'userPassword': 'Supervisor'},
                          {'ForceUseSession': 'true'})
    assert resp.status == 200 and resp.json()['Code'] == 1 and resp.json()['Message']


def test_login_wrong_places(client):  # pylint: disable=redefined-outer-name
    resp = client.login(path=f'{SITE}/0/ServiceModel/AuthService.svc/Login')
    assert resp.status == 404 and resp.headers['Content-Type'].startswith('text/html')
    resp = client.login(path='/ServiceModel/AuthService.svc/Login')  # site path missing
    assert resp.status == 404 and resp.headers['Content-Type'].startswith('text/html')


def test_login_needs_force_use_session_and_json(client):  # pylint: disable=redefined-outer-name
    resp = client.request('POST', f'{SITE}/ServiceModel/AuthService.svc/Login', {'UserName': 'Supervisor', 'UserPassword': 'Supervisor'})
    assert resp.status == 400 and 'Message' in resp.json()
    resp = client.request('POST', f'{SITE}/ServiceModel/AuthService.svc/Login', 'UserName=Supervisor',
                          {'ForceUseSession': 'true', 'Content-Type': 'application/x-www-form-urlencoded'})
    assert resp.status == 415


# ---------------------------------------------------------------- CSRF, wrapping, grant types, users

def test_csrf(admin, sim):  # pylint: disable=redefined-outer-name
    inner = {'name': 'X', 'applicationUrl': 'https://x', 'grantType': 'authorization_code'}
    resp = admin.call('AddClient', inner, csrf=False)
    assert resp.status == 403 and 'CSRF' in resp.json()['Message']
    resp = admin.call('AddClient', inner, headers={'BPMCSRF': 'bogus'})
    assert resp.status == 403
    assert result(admin.call('AddClient', inner), 'AddClient')['success'] is True
    sim.rotate_csrf()
    assert admin.call('AddClient', inner).status == 403
    sim.configure(csrf=False)
    assert result(admin.call('AddClient', inner, csrf=False), 'AddClient')['success'] is True
    log = sim.log()
    assert [e['csrf'] for e in log if e['endpoint'] == 'AddClient'] == [False, False, True, False, False]
    assert len(sim.state()['clients']) == 3


def test_wrapped_body_required(admin):  # pylint: disable=redefined-outer-name
    inner = {'name': 'X', 'applicationUrl': 'https://x', 'grantType': 'authorization_code'}
    resp = admin.call('AddClient', inner, wrap=False)
    assert resp.status == 400 and 'addClientRequest' in resp.json()['Message']
    resp = admin.request('POST', f'{SITE}/0/rest/OAuthConfigService/AddClient', json.dumps({'addClientRequest': inner}),
                         {'Content-Type': 'text/plain'})
    assert resp.status == 415
    assert admin.request('POST', f'{SITE}/0/rest/OAuthConfigService/Nope', {'x': {}}).status == 404
    res = result(admin.call('AddClient', dict(inner, unknownMember=1)), 'AddClient')
    assert res['success'] is True and res['rowsAffected'] == -1 and res['nextPrcElReady'] is False and res['errorInfo'] is None


@pytest.mark.parametrize('grant', ['Client_Credentials', 'CLIENT_CREDENTIALS', 'password', None])
def test_grant_type_case(admin, grant):  # pylint: disable=redefined-outer-name
    res = result(admin.call('AddClient', {'name': 'X', 'applicationUrl': 'https://x', 'grantType': grant,
                                          'systemUserId': cs.SUPERVISOR_ID}), 'AddClient')
    assert res['success'] is False and res['errorInfo']['message']


@pytest.mark.parametrize('field', ['name', 'applicationUrl'])
def test_required_fields(admin, field):  # pylint: disable=redefined-outer-name
    inner = {'name': 'X', 'applicationUrl': 'https://x', 'grantType': 'authorization_code'}
    del inner[field]
    res = result(admin.call('AddClient', inner), 'AddClient')
    assert res['success'] is False and res['errorInfo']['message'] == f'Unexpected error: Parameter "{field}" is required.'


def test_system_user_rules(admin):  # pylint: disable=redefined-outer-name
    base = {'name': 'X', 'applicationUrl': 'https://x', 'grantType': 'client_credentials'}
    for user in (None, '00000000-0000-0000-0000-000000000000', 'not-a-guid'):
        res = result(admin.call('AddClient', dict(base, systemUserId=user)), 'AddClient')
        assert res['success'] is False and res['errorInfo']['message'] == cs.MSG_BAD_USER
    res = result(admin.call('AddClient', dict(base, systemUserId=cs.WEBHOOK_USER_ID, redirectUrl='https://r')), 'AddClient')
    assert res['success'] is False
    res = result(admin.call('AddClient', dict(base, grantType='authorization_code', systemUserId=cs.WEBHOOK_USER_ID)), 'AddClient')
    assert res['success'] is False
    assert len(admin.sim.state()['clients']) == 1


def test_add_client_no_dedupe(admin, sim):  # pylint: disable=redefined-outer-name
    first = add_cc(admin, 'Same')
    second = add_cc(admin, 'Same')
    for res in (first, second):
        assert res['success'] is True and HEX32.match(res['clientId']) and HEX64.match(res['clientSecret'])
    assert first['clientId'] != second['clientId']
    named = [c for c in sim.state()['clients'] if c['name'] == 'Same']
    assert len(named) == 2 and named[0]['systemUserId'] == cs.POWERBI_USER_ID and named[0]['seeded'] is False
    code = add_code(admin, 'Web', redirect='https://web.example.com/cb')
    assert 'redirectUrls' not in code
    rec = next(c for c in sim.state()['clients'] if c['clientId'] == code['clientId'])
    assert [r['redirectUrl'] for r in rec['redirectUrls']] == ['https://web.example.com/cb'] and rec['systemUserId'] is None


def test_stamp_precision_second_gives_writes_of_one_second_the_same_created_on(admin, sim):  # pylint: disable=redefined-outer-name
    stamp = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{3})Z$')
    first = add_cc(admin, 'Fine')['clientId']
    second = add_cc(admin, 'Fine')['clientId']
    fine = dict((c['clientId'], c['createdOn']) for c in sim.state()['clients'])
    assert fine[first] < fine[second]  # millisecond (the default): strictly later, even within one millisecond
    with pytest.raises(ValueError):
        sim.configure(stamp_precision='minute')
    sim.configure(stamp_precision='second')
    ids, stamps = [], {}
    while len(ids) < 2 or stamps[ids[-2]] != stamps[ids[-1]]:  # two creations in one second (a second boundary may fall between)
        assert len(ids) < 10
        ids.append(add_cc(admin, 'Coarse')['clientId'])
        stamps = dict((c['clientId'], c['createdOn']) for c in sim.state()['clients'])
    assert all(stamp.match(stamps[i]).group(1) == '000' for i in ids)
    doc = admin.odata("?$filter=Name%20eq%20'Coarse'&$select=ClientId,CreatedOn").json()
    assert dict((r['ClientId'], r['CreatedOn']) for r in doc['value']) == dict((i, stamps[i]) for i in ids)


def test_add_client_by_hand_takes_the_id_and_created_on_given(admin, sim):  # pylint: disable=redefined-outer-name
    made = sim.add_client('By hand', record_id='00000000-0000-4000-8000-000000000001', created_on='2026-01-02T03:04:05.000Z')
    assert (made['id'], made['createdOn'], made['systemUserId']) == (
        '00000000-0000-4000-8000-000000000001', '2026-01-02T03:04:05.000Z', cs.POWERBI_USER_ID)
    assert HEX32.match(made['clientId']) and HEX64.match(sim.issued_secrets()['client_secrets'][made['clientId']])
    doc = admin.odata("?$filter=Name%20eq%20'By%20hand'&$select=Id,ClientId,CreatedOn").json()
    assert doc['value'] == [{'Id': made['id'], 'ClientId': made['clientId'], 'CreatedOn': made['createdOn']}]
    with pytest.raises(ValueError):
        sim.add_client('No user', system_user_id=cs.SUPERVISOR_CONTACT_ID)


def test_redirect_urls(admin, sim):  # pylint: disable=redefined-outer-name
    cid = add_code(admin)['clientId']
    res = result(admin.call('AddRedirectUrls', {'clientId': cid, 'redirectUrls': ['https://a/cb', 'https://b/cb', 'https://a/cb']}),
                 'AddRedirectUrls')
    assert res['success'] is True and [r['redirectUrl'] for r in res['redirectUrls']] == ['https://a/cb', 'https://b/cb', 'https://a/cb']
    assert all(GUID.match(r['id']) for r in res['redirectUrls'])
    rid = res['redirectUrls'][1]['id']
    assert result(admin.call('UpdateRedirectUrl', {'redirectUrlId': rid, 'redirectUrl': 'https://c/cb'}), 'UpdateRedirectUrl')['success']
    assert result(admin.call('DeleteRedirectUrl', {'redirectUrlId': res['redirectUrls'][0]['id']}), 'DeleteRedirectUrl')['success']
    rec = next(c for c in sim.state()['clients'] if c['clientId'] == cid)
    assert [r['redirectUrl'] for r in rec['redirectUrls']] == ['https://c/cb', 'https://a/cb']
    missing = '11111111-2222-3333-4444-555555555555'
    for method, inner in (('UpdateRedirectUrl', {'redirectUrlId': missing, 'redirectUrl': 'https://z'}),
                          ('DeleteRedirectUrl', {'redirectUrlId': missing}),
                          ('AddRedirectUrls', {'clientId': 'f' * 32, 'redirectUrls': ['https://z']})):
        res = result(admin.call(method, inner), method)
        assert res['success'] is False and res['errorInfo']['message'] == cs.MSG_NO_RECORD
    cc_id = add_cc(admin)['clientId']
    assert result(admin.call('AddRedirectUrls', {'clientId': cc_id, 'redirectUrls': ['https://z']}), 'AddRedirectUrls')['success'] is False


def test_update_and_delete_client(admin, sim):  # pylint: disable=redefined-outer-name
    cid = add_code(admin, redirect='https://r/cb')['clientId']
    assert result(admin.call('UpdateClient', {'clientId': cid, 'name': 'Renamed', 'isActive': False}), 'UpdateClient')['success']
    rec = next(c for c in sim.state()['clients'] if c['clientId'] == cid)
    assert rec['name'] == 'Renamed' and rec['isActive'] is False and rec['applicationUrl'] == 'https://web.example.com'
    cc_id = add_cc(admin)['clientId']
    res = result(admin.call('UpdateClient', {'clientId': cc_id, 'systemUserId': cs.SUPERVISOR_ID[:-1] + '9'}), 'UpdateClient')
    assert res['errorInfo']['message'] == cs.MSG_BAD_USER
    assert result(admin.call('UpdateClient', {'clientId': cc_id, 'systemUserId': cs.WEBHOOK_USER_ID}), 'UpdateClient')['success']
    assert result(admin.call('DeleteClient', {'clientId': cid}), 'DeleteClient')['success']
    assert all(c['clientId'] != cid for c in sim.state()['clients'])
    res = result(admin.call('DeleteClient', {'clientId': cid}), 'DeleteClient')
    assert res['success'] is False and res['errorInfo']['message'] == cs.MSG_NO_RECORD
    res = result(admin.call('UpdateClient', {'clientId': cid, 'name': 'x'}), 'UpdateClient')
    assert res['errorInfo']['message'] == cs.MSG_NO_RECORD


# ---------------------------------------------------------------- OData

def test_odata(admin, sim):  # pylint: disable=redefined-outer-name
    add_code(admin, "O'Brien", redirect='https://ob/cb')
    add_code(admin, 'Other')
    q = urllib.parse.quote("Name eq 'O''Brien' or ClientId eq '" + cs.AUTOMATION_CLIENT_ID + "'")
    doc = admin.odata(f'?$filter={q}&$select=Name,RedirectUrl').json()
    assert doc['@odata.context'].endswith('#OAuthClientApp(Name,RedirectUrl)')
    assert doc['value'] == [{'Name': 'Ansible automation', 'RedirectUrl': ''}, {'Name': "O'Brien", 'RedirectUrl': 'https://ob/cb'}]
    assert '@odata.nextLink' not in doc
    # page size is 2 in this module: 3 rows -> 2 pages
    doc = admin.odata().json()
    assert len(doc['value']) == 2 and set(doc['value'][0]) == set(cs.ODATA_COLUMNS)
    link = urllib.parse.urlsplit(doc['@odata.nextLink'])
    assert link.scheme == 'http' and link.path == f'{SITE}/0/odata/OAuthClientApp' and '$skip=2' in link.query
    doc2 = admin.request('GET', f'{link.path}?{link.query}').json()
    assert [r['Name'] for r in doc2['value']] == ['Other'] and '@odata.nextLink' not in doc2
    for bad in ("?$filter=Name%20eq%20O'Brien", "?$filter=Name%20eq%20'x'%20and", "?$filter=Secret%20eq%20'x'",
                '?$select=ClientSecret', "?$filter=ClientSecret%20eq%20'x'", '?$expand=SystemUser'):
        resp = admin.odata(bad)
        assert resp.status == 400 and 'message' in resp.json()['error'], bad
    assert 'Secret' not in json.dumps(admin.odata().json()) and cs.AUTOMATION_CLIENT_SECRET not in admin.odata().body.decode()
    assert sim.log()[-1]['kind'] == 'read'


def test_odata_needs_auth_not_csrf(client):  # pylint: disable=redefined-outer-name
    assert client.odata().status == 401
    client.login()
    assert client.request('GET', f'{SITE}/0/odata/OAuthClientApp', csrf=False).status == 200


# ---------------------------------------------------------------- token + bearer

def test_token_and_bearer(client, sim):  # pylint: disable=redefined-outer-name
    form = {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID, 'client_secret': cs.AUTOMATION_CLIENT_SECRET}
    resp = token_request(sim, form)
    tok = resp.json()
    assert resp.status == 200 and tok['token_type'] == 'Bearer' and tok['expires_in'] == 3600
    assert re.match(r'^ApplicationAccess_[0-9a-f]{32}$', tok['scope'])
    basic = base64.b64encode(f'{cs.AUTOMATION_CLIENT_ID}:{cs.AUTOMATION_CLIENT_SECRET}'.encode()).decode()
    assert token_request(sim, {'grant_type': 'client_credentials'}, {'Authorization': f'Basic {basic}'}).status == 200
    assert token_request(sim, dict(form, client_secret='nope')).json() == {'error': 'invalid_client'}
    assert token_request(sim, dict(form, grant_type='password')).json() == {'error': 'unsupported_grant_type'}
    client.bearer = tok['access_token']
    res = add_cc(client, 'ViaBearer')
    assert res['success'] is True
    assert client.odata().status == 200
    entries = [e for e in sim.log() if e['endpoint'] == 'AddClient']
    assert entries[-1]['auth'] == 'bearer' and entries[-1]['user'] == 'Supervisor' and entries[-1]['csrf'] is None
    # a new client_credentials client gets its own token acting as its system user (not admin)
    tok2 = token_request(sim, {'grant_type': 'client_credentials', 'client_id': res['clientId'], 'client_secret': res['clientSecret']}).json()
    client.bearer = tok2['access_token']
    assert result(client.call('DeleteClient', {'clientId': 'x'}), 'DeleteClient')['errorInfo']['message'] == cs.MSG_NO_RIGHTS
    sim.expire(sessions=False, tokens=True)
    assert client.odata().status == 401
    # authorization_code clients cannot use the token endpoint
    client.bearer = None
    client.login()
    code = add_code(client)
    assert token_request(sim, {'grant_type': 'client_credentials', 'client_id': code['clientId'],
                               'client_secret': code['clientSecret']}).json() == {'error': 'invalid_client'}


# ---------------------------------------------------------------- session expiry

def test_session_expiry_json(admin, sim):  # pylint: disable=redefined-outer-name
    sim.expire()
    resp = admin.call('DeleteClient', {'clientId': 'x'})
    assert resp.status == 401
    assert resp.json() == {'Message': 'Authentication failed.', 'StackTrace': None,
                           'ExceptionType': 'System.Security.Authentication.AuthenticationException'}


def test_session_expiry_html(admin, sim):  # pylint: disable=redefined-outer-name
    sim.expire(mode='html')
    resp = admin.call('DeleteClient', {'clientId': 'x'})
    assert resp.status == 302
    loc = urllib.parse.urlsplit(resp.headers['Location'])
    assert loc.path == f'{SITE}/Login/NuiLogin.aspx'
    assert urllib.parse.parse_qs(loc.query)['ReturnUrl'] == [f'{SITE}/0/rest/OAuthConfigService/DeleteClient']
    page = admin.request('GET', f'{loc.path}?{loc.query}')
    assert page.status == 200 and page.headers['Content-Type'].startswith('text/html') and b'<html' in page.body
    assert admin.request('GET', f'{SITE}/Login/Login.html').status == 200


# ---------------------------------------------------------------- faults

def test_fault_status_count_retry_after(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': 'OData', 'status': 503, 'count': 2, 'retry_after': 1}])
    for _attempt in range(2):
        resp = admin.odata()
        assert resp.status == 503 and resp.headers['Retry-After'] == '1' and resp.json() == {'Message': 'Simulated fault'}
    assert admin.odata().status == 200
    assert [e['status'] for e in sim.log() if e['endpoint'] == 'OData'] == [503, 503, 200]
    assert sim.log()[-2]['fault']['status'] == 503


def test_fault_delay(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': '*', 'delay': 0.2}])
    start = time.monotonic()
    assert admin.odata().status == 200
    assert time.monotonic() - start >= 0.2
    start = time.monotonic()
    assert admin.odata().status == 200
    assert time.monotonic() - start < 0.2


def test_fault_drop_before(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': 'AddClient', 'drop': True}])
    with pytest.raises((http.client.HTTPException, OSError)):
        add_code(admin)
    assert len(sim.state()['clients']) == 1
    last = sim.log()[-1]
    assert last['status'] is None and last['fault']['drop'] is True and last['auth'] == 'forms' and last['user'] == 'Supervisor'


@pytest.mark.parametrize('fault', [{'status': 502}, {'drop': True}])
def test_fault_after(admin, sim, fault):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[dict(fault, endpoint='AddClient', phase='after')])
    try:
        resp = admin.call('AddClient', {'name': 'Lost', 'applicationUrl': 'https://x', 'grantType': 'authorization_code'})
        assert resp.status == 502 and b'clientId' not in resp.body
    except (http.client.HTTPException, OSError):
        assert fault.get('drop')
    assert [c['name'] for c in sim.state()['clients']] == ['Ansible automation', 'Lost']


def test_fault_hostile_body_after_acting(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': 'AddClient', 'phase': 'after', 'body': '<html>gateway</html>'}])
    resp = admin.call('AddClient', {'name': 'Acted', 'applicationUrl': 'https://x', 'grantType': 'authorization_code'})
    assert resp.status == 200 and resp.is_html and resp.body == b'<html>gateway</html>'
    assert [c['name'] for c in sim.state()['clients']] == ['Ansible automation', 'Acted']


def test_fault_rewrite_real_answer(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': 'AddClient', 'rewrite': [['"success": true', '"success": "true"']]}])
    resp = admin.call('AddClient', {'name': 'Rewritten', 'applicationUrl': 'https://x', 'grantType': 'authorization_code'})
    assert resp.status == 200 and resp.json()['AddClientResult']['success'] == 'true'
    assert len(sim.state()['clients']) == 2  # the real call ran
    with pytest.raises(ValueError):
        sim.configure(faults=[{'endpoint': 'OData', 'rewrite': [['(', 'x']]}])


def test_fault_trickle(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': 'OData', 'trickle': 0.05}])
    start = time.monotonic()
    resp = admin.odata()
    assert resp.status == 200 and resp.json()['value']
    assert time.monotonic() - start >= 0.05 * 20


def test_fault_login_and_token(client, sim):  # pylint: disable=redefined-outer-name
    sim.configure(faults=[{'endpoint': 'Login', 'status': 500}, {'endpoint': 'Token', 'status': 503}])
    assert client.login().status == 500
    assert client.login().json()['Code'] == 0
    form = {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID, 'client_secret': cs.AUTOMATION_CLIENT_SECRET}
    assert token_request(sim, form).status == 503
    assert token_request(sim, form).status == 200


def test_bad_config_rejected(sim):  # pylint: disable=redefined-outer-name
    sim.reset()
    for bad in ({'nope': 1}, {'csrf': 'yes'}, {'faults': [{'endpoint': 'Bogus'}]}, {'session_expiry': 'xml'}):
        with pytest.raises(ValueError):
            sim.configure(**bad)


# ---------------------------------------------------------------- business switches

def test_switch_oauth_feature(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(oauth_feature=False)
    for method in cs.SERVICE_METHODS:
        res = result(admin.call(method, {}), method)
        assert res['success'] is False and res['errorInfo']['message'] == cs.MSG_FEATURE_OFF


def test_switch_identity_down(admin, sim):  # pylint: disable=redefined-outer-name
    cid = add_code(admin)['clientId']
    before = sim.state()['clients']
    sim.configure(identity_up=False)
    down = cs.MSG_IDENTITY_DOWN.format(url=sim.identity_url)
    assert down == f'Unable to connect to OAuth server at "{sim.identity_url}" (system setting OAuth20IdentityServerUrl)'
    assert add_code(admin)['errorInfo']['message'] == down
    assert result(admin.call('UpdateClient', {'clientId': cid, 'name': 'N'}), 'UpdateClient')['errorInfo']['message'] == down
    assert result(admin.call('DeleteClient', {'clientId': cid}), 'DeleteClient')['errorInfo']['message'] == down
    assert sim.state()['clients'] == before
    form = {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID, 'client_secret': cs.AUTOMATION_CLIENT_SECRET}
    resp = token_request(sim, form)
    assert resp.status == 503 and resp.is_html and b'Service Unavailable' in resp.body


def test_switch_admin_rights_and_viewer(admin, sim):  # pylint: disable=redefined-outer-name
    sim.configure(admin_rights=False)
    assert add_code(admin)['errorInfo']['message'] == cs.MSG_NO_RIGHTS
    sim.configure(admin_rights=True)
    viewer = Client(sim)
    assert viewer.login('Viewer', 'Viewer').json()['Code'] == 0
    assert add_code(viewer)['errorInfo']['message'] == cs.MSG_NO_RIGHTS
    assert viewer.odata().status == 200
    viewer.close()
    assert len(sim.state()['clients']) == 1


def test_switch_echo_credentials(sim):  # pylint: disable=redefined-outer-name
    password, secret = 'wr\u00f6ng"pa+ss/=&', 'wr\u00f6ng"+secret/='
    form = {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID, 'client_secret': secret}
    quiet = Client(sim)
    assert password not in quiet.login('Supervisor', password).text and 'error_description' not in token_request(sim, form).text
    quiet.close()
    sim.configure(echo_credentials=True)
    try:
        echoing = Client(sim)
        message = echoing.login('Supervisor', password).json()['Message']
        echoing.close()
        assert json.dumps(password)[1:-1] in message and urllib.parse.quote(password, safe='') in message
        assert json.dumps(password, ensure_ascii=False)[1:-1] in message and urllib.parse.urlencode({'v': password})[2:] in message
        assert password not in message
        described = token_request(sim, form).json()['error_description']
        assert urllib.parse.quote(secret, safe='') in described and secret not in described
    finally:
        sim.configure(echo_credentials=False)


def test_switch_odata_status(client, sim):  # pylint: disable=redefined-outer-name
    sim.configure(odata_status=403)
    assert client.odata().status == 401  # authentication first
    client.login()
    resp = client.odata()
    assert resp.status == 403 and 'message' in resp.json()['error']


# ---------------------------------------------------------------- admin API, log hygiene

def test_admin_api_loopback_only(client):  # pylint: disable=redefined-outer-name
    assert cs.is_loopback('127.0.0.1') and cs.is_loopback('127.8.9.10') and cs.is_loopback('::1')
    assert cs.is_loopback('::ffff:127.0.0.1')
    assert not cs.is_loopback('10.0.0.1') and not cs.is_loopback('192.168.1.2') and not cs.is_loopback('garbage')
    assert client.sim.admin('GET', '/_sim/state', b'', '10.1.2.3').status == 403
    state = client.request('GET', '/_sim/state').json()
    assert state['clients'][0]['seeded'] is True and len(state['users']) == 4
    resp = client.request('POST', '/_sim/config', {'csrf': False, 'faults': [{'endpoint': 'OData', 'count': 1}]})
    assert resp.status == 200 and resp.json()['csrf'] is False and resp.json()['faults'][0]['status'] == 503
    assert client.request('POST', '/_sim/config', {'bogus': 1}).status == 400
    assert client.request('POST', '/_sim/expire', {'sessions': True, 'tokens': True, 'mode': 'html'}).status == 200
    assert client.request('POST', '/_sim/rotate_csrf').status == 200
    assert client.request('POST', '/_sim/log/clear').status == 200
    assert client.request('GET', '/_sim/log').json() == []
    assert client.request('POST', '/_sim/reset').status == 200
    assert client.request('GET', '/_sim/config').json()['csrf'] is True


def test_log_never_holds_secrets(admin, sim):  # pylint: disable=redefined-outer-name
    created = add_cc(admin, 'Secretive')
    form = {'grant_type': 'client_credentials', 'client_id': created['clientId'], 'client_secret': created['clientSecret']}
    tok = token_request(sim, form).json()['access_token']
    admin.bearer = tok
    admin.odata()
    dump = json.dumps(sim.log()) + json.dumps(sim.state())
    for secret in (created['clientSecret'], cs.AUTOMATION_CLIENT_SECRET, tok, admin.cookies['.ASPXAUTH'], admin.cookies['BPMCSRF']):
        assert secret not in dump
    assert 'UserPassword' not in dump
    keys = {'seq', 'method', 'path', 'endpoint', 'kind', 'auth', 'user', 'csrf', 'status', 'fault'}
    assert all(set(e) == keys for e in sim.log())
    assert {e['endpoint'] for e in sim.log()} == {'Login', 'AddClient', 'Token', 'OData'}


# ---------------------------------------------------------------- root site, TLS, CLI

def test_root_site_path_and_keepalive():
    with cs.Simulator(csrf=False) as root:
        assert root.url == f'http://127.0.0.1:{root.port}'
        cl = Client(root)
        assert cl.login().json()['Code'] == 0
        for _request in range(5):  # same connection reused
            assert add_code(cl)['success'] is True
        assert cl.request('POST', '/0/rest/OAuthConfigService/AddClient', {'addClientRequest': {}}, csrf=False).status == 200
        cl.close()


def test_concurrent_clients(admin, sim):  # pylint: disable=redefined-outer-name
    def work(_index):
        cl = Client(sim)
        cl.cookies = dict(admin.cookies)
        try:
            return [add_code(cl)['success'] for _request in range(5)]
        finally:
            cl.close()

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        outcomes = [ok for batch in pool.map(work, range(10)) for ok in batch]
    assert outcomes == [True] * 50
    assert len({c['clientId'] for c in sim.state()['clients']}) == 51
    assert [e['seq'] for e in sim.log()] == list(range(sim.log()[0]['seq'], sim.log()[0]['seq'] + 51))


def test_tls(tmp_path):
    if not shutil.which('openssl'):
        pytest.skip('openssl not available')
    cert, key = str(tmp_path / 'c.pem'), str(tmp_path / 'k.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], check=True, capture_output=True)
    with cs.Simulator(tls_cert=cert, tls_key=key) as tls:
        assert tls.url.startswith('https://') and tls.identity_url.startswith('https://')
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        cl = Client(tls, ctx)
        assert cl.login().json()['Code'] == 0
        assert cl.odata().status == 200
        cl.close()


def test_cli(tmp_path):
    port_file = tmp_path / 'port'
    cmd = [sys.executable, os.path.join(HERE, 'creatio_simulator.py'), '--site-path', SITE, '--port-file', str(port_file)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
    try:
        deadline = time.monotonic() + 5
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        port = int(port_file.read_text())
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
        conn.request('GET', '/_sim/state')
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=5)
    assert proc.returncode == 0
    assert f'Creatio simulator listening on http://127.0.0.1:{port}{SITE}' in out
    assert f'Identity service: http://127.0.0.1:{port}/identity' in out
    assert cs.SUPERVISOR_ID in out and 'PowerBIUser' in out
