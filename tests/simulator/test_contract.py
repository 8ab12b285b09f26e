"""The revised contract (creatio-api.md sections 0 to 4) against the running simulator, over HTTP:
platforms, versions, ids, Creatio's texts in two languages, site-wide states, OData columns,
SysAdminUnit, CreateTechnicalUser, OpenID discovery, $metadata and the redirect-URI entity."""

from __future__ import annotations

import os
import re
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import creatio_simulator as cs  # noqa: E402  pylint: disable=wrong-import-position
from sim_client import Client, add_cc, add_code, fetch, result, token_request  # noqa: E402  pylint: disable=wrong-import-position

SITE = '/CreatioApp'
GUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
EDM = '{http://docs.oasis-open.org/odata/ns/edm}'
CC_FORM = {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID,
           'client_secret': cs.AUTOMATION_CLIENT_SECRET}
NOT_TRANSLATED = ('OAuth20IdentityServerUrl', 'OAuth20IdentityServerClientId', 'OAuth20IdentityServerClientSecret',
                  'Feature-EnableOAuth20Integration', 'CanManageSolution')

# pylint: disable=redefined-outer-name


@pytest.fixture(scope='module')
def sim():
    simulator = cs.Simulator(site_path=SITE)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim):
    sim.reset()
    cl = Client(sim)
    yield cl
    cl.close()


@pytest.fixture
def admin(client):
    assert client.login().json()['Code'] == 0
    return client


def q(text):
    """URL-quote an OData option value."""
    return urllib.parse.quote(text, safe="$,'()")


def rows(cl, entity, query=''):
    """The value list of an OData read that must succeed."""
    resp = cl.odata(query, entity=entity)
    assert resp.status == 200, resp.body
    return resp.json()['value']


def entity_sets(cl):
    """{entity set name: EntityType element} of $metadata."""
    resp = cl.request('GET', f'{cl.api}/odata/$metadata')
    assert resp.status == 200 and resp.headers['Content-Type'].startswith('application/xml'), resp.body
    root = ET.fromstring(resp.body)
    types = {t.get('Name'): t for t in root.iter(f'{EDM}EntityType')}
    return {s.get('Name'): types[s.get('EntityType').rsplit('.', 1)[1]] for s in root.iter(f'{EDM}EntitySet')}


def properties(entity_type):
    """{name: Edm type} of an EntityType element."""
    return {p.get('Name'): p.get('Type') for p in entity_type.iter(f'{EDM}Property')}


def error_message(resp):
    """errorInfo.message of a failed service answer."""
    body = resp.json()
    res = next(iter(body.values()))
    assert res['success'] is False, body
    return res['errorInfo']['message']


# ---------------------------------------------------------------- section 0: platforms

def test_netframework_api_under_0_and_wrong_root_404(admin, sim):
    assert sim.api_url == sim.url + '/0' and admin.api == f'{SITE}/0'
    assert add_cc(admin)['success'] is True
    for path in (f'{SITE}/rest/OAuthConfigService/AddClient', f'{SITE}/odata/OAuthClientApp', f'{SITE}/odata/$metadata',
                 f'{SITE}/.well-known/openid-configuration'):
        resp = admin.request('POST' if '/rest/' in path else 'GET', path, {'addClientRequest': {}})
        assert resp.status == 404 and resp.is_html, path
    assert len(sim.state()['clients']) == 2
    doc = admin.odata('?$top=1&$select=Name').json()
    assert doc['@odata.context'].startswith(f'http://127.0.0.1:{sim.port}{SITE}/0/odata/$metadata#')


@pytest.mark.parametrize('at_runtime', [False, True])
def test_netcore_api_at_site_root(at_runtime):
    kwargs = {} if at_runtime else {'platform': 'netcore'}
    with cs.Simulator(site_path=SITE, odata_page_size=1, **kwargs) as site:
        if at_runtime:
            assert fetch(site.control_url + '/config', 'POST', {'platform': 'netcore'}).json()['platform'] == 'netcore'
        assert site.api_url == site.url
        cl = Client(site)
        assert cl.api == SITE
        assert cl.login().json()['Code'] == 0  # forms login at the site root on both platforms
        assert cl.login(path=f'{SITE}/0/ServiceModel/AuthService.svc/Login').status == 404
        assert add_cc(cl)['success'] is True
        wrong = cl.request('POST', f'{SITE}/0/rest/OAuthConfigService/AddClient', {'addClientRequest': {}})
        assert wrong.status == 404 and wrong.is_html
        wrong = cl.request('GET', f'{SITE}/0/odata/OAuthClientApp')
        assert wrong.status == 404 and wrong.is_html
        doc = cl.odata().json()
        link = urllib.parse.urlsplit(doc['@odata.nextLink'])
        assert link.path == f'{SITE}/odata/OAuthClientApp'
        assert len(cl.request('GET', f'{link.path}?{link.query}').json()['value']) == 1
        assert [c['name'] for c in site.state()['clients']] == ['Ansible automation', 'Svc']
        cl.close()


def test_unknown_paths_under_the_api_root_need_a_login_first(client, sim):
    assert client.request('GET', f'{SITE}/0/DataService/json/SyncReply/Select').status == 401
    client.login()
    resp = client.request('GET', f'{SITE}/0/DataService/json/SyncReply/Select')
    assert resp.status == 404 and resp.is_html
    del sim


# ---------------------------------------------------------------- section 3: versions

@pytest.mark.parametrize('platform', ['netframework', 'netcore'])
def test_81_has_no_redirect_uri_methods_nor_create_technical_user(client, sim, platform):
    sim.configure(creatio_version='8.1', platform=platform)
    inners = {'AddRedirectUrls': {'clientId': cs.AUTOMATION_CLIENT_ID, 'redirectUrls': ['https://a/cb']},
              'UpdateRedirectUrl': {'redirectUrlId': cs.AUTOMATION_RECORD_ID, 'redirectUrl': 'https://a/cb'},
              'DeleteRedirectUrl': {'redirectUrlId': cs.AUTOMATION_RECORD_ID},
              'CreateTechnicalUser': {'name': 'Tech'}}
    for method, inner in inners.items():
        assert client.call(method, inner).status == 401  # authentication first, as the site's HTTP module does
    client.login()
    for method, inner in inners.items():
        resp = client.call(method, inner)
        assert resp.status == 404, method
        assert cs.MSG_ENDPOINT_NOT_FOUND in resp.text
        assert resp.is_html == (platform == 'netframework')
    assert client.call('Nope', {}).status == 404
    assert [e['status'] for e in sim.log() if e['endpoint'] in inners][-4:] == [404] * 4
    assert len(sim.state()['users']) == 4


def test_81_every_client_is_client_credentials_with_a_system_user(admin, sim):
    sim.configure(creatio_version='8.1')
    base = {'name': 'Web', 'applicationUrl': 'https://web.example.com', 'grantType': 'authorization_code'}
    assert error_message(admin.call('AddClient', base)) == cs.MSG_BAD_USER  # systemUserId required, grantType ignored
    inner = dict(base, systemUserId=cs.WEBHOOK_USER_ID, redirectUrl='https://web/cb', grantType=12)
    res = result(admin.call('AddClient', inner), 'AddClient')
    assert res['success'] is True
    rec = next(c for c in sim.state()['clients'] if c['clientId'] == res['clientId'])
    assert rec['grantType'] == 'client_credentials' and rec['systemUserId'] == cs.WEBHOOK_USER_ID
    query = '?$filter=' + q(f"ClientId eq '{res['clientId']}'") + '&$select=RedirectUrl,SystemUserId'
    assert rows(admin, 'OAuthClientApp', query) == [{'RedirectUrl': 'https://web/cb', 'SystemUserId': cs.WEBHOOK_USER_ID}]
    # UpdateClient's redirectUrl is the one redirect URI; null leaves it, '' clears it
    assert result(admin.call('UpdateClient', {'clientId': res['clientId'], 'redirectUrl': 'https://web/new'}), 'UpdateClient')['success']
    assert rows(admin, 'OAuthClientApp', query)[0]['RedirectUrl'] == 'https://web/new'
    assert result(admin.call('UpdateClient', {'clientId': res['clientId'], 'redirectUrl': None, 'name': 'Web2'}), 'UpdateClient')['success']
    assert rows(admin, 'OAuthClientApp', query)[0]['RedirectUrl'] == 'https://web/new'
    assert result(admin.call('UpdateClient', {'clientId': res['clientId'], 'redirectUrl': ''}), 'UpdateClient')['success']
    assert rows(admin, 'OAuthClientApp', query)[0]['RedirectUrl'] == ''
    # such a client gets tokens (it is a client credentials client)
    tok = token_request(sim, {'grant_type': 'client_credentials', 'client_id': res['clientId'], 'client_secret': res['clientSecret']})
    assert tok.status == 200
    # no redirect-URI entity, no OpenID configuration on 8.1
    assert set(entity_sets(admin)) == {'OAuthClientApp', 'SysAdminUnit'}
    assert admin.odata(entity=cs.DEFAULT_REDIRECT_ENTITY).status == 404
    resp = admin.request('GET', f'{SITE}/0/.well-known/openid-configuration')
    assert resp.status == 404 and resp.is_html


def test_83_grant_type_rules(admin, sim):
    base = {'name': 'X', 'applicationUrl': 'https://x'}
    assert error_message(admin.call('AddClient', base)).startswith('Unexpected error: Grant type "None"')
    code = result(admin.call('AddClient', dict(base, grantType='authorization_code', redirectUrl='https://x/cb')), 'AddClient')
    assert set(code) >= {'clientId', 'clientSecret'} and 'redirectUrls' not in code  # AddClient does not return the URI id
    rec = next(c for c in sim.state()['clients'] if c['clientId'] == code['clientId'])
    assert rec['systemUserId'] is None and [r['redirectUrl'] for r in rec['redirectUrls']] == ['https://x/cb']
    assert error_message(admin.call('AddClient', dict(base, grantType='client_credentials', systemUserId=cs.SUPERVISOR_ID,
                                                      redirectUrl='https://x/cb'))).startswith('Unexpected error: ')


@pytest.mark.parametrize('version', ['8.3', '8.1'])
def test_get_client_secret(admin, sim, version):
    sim.configure(creatio_version=version)
    created = add_cc(admin, 'Readable')
    record = next(c for c in sim.state()['clients'] if c['clientId'] == created['clientId'])
    resp = admin.call('GetClientSecret', {'clientAppId': record['id'].upper()})
    assert result(resp, 'GetClientSecret') == {'success': True, 'rowsAffected': -1, 'nextPrcElReady': False,
                                               'errorInfo': None, 'clientSecret': created['clientSecret']}
    assert error_message(admin.call('GetClientSecret', {'clientAppId': created['clientId']})) == cs.MSG_NO_RECORD
    assert sim.log()[-1]['kind'] == 'read'
    sim.configure(get_client_secret=False)
    assert admin.call('GetClientSecret', {'clientAppId': record['id']}).status == 404


# ---------------------------------------------------------------- ids and case

def test_ids_upper_case_and_filters_match_the_stored_case_only(admin, sim):
    created = add_cc(admin, 'Cased')
    assert re.match(r'^[0-9A-F]{32}$', created['clientId']) and re.match(r'^[0-9A-F]{64}$', created['clientSecret'])
    assert re.match(r'^[0-9A-F]{32}$', cs.AUTOMATION_CLIENT_ID)
    lower = created['clientId'].lower()
    assert rows(admin, 'OAuthClientApp', '?$filter=' + q(f"ClientId eq '{lower}'")) == []
    assert len(rows(admin, 'OAuthClientApp', '?$filter=' + q(f"ClientId eq '{created['clientId']}'"))) == 1
    assert len(rows(admin, 'OAuthClientApp', '?$filter=' + q(f"tolower(ClientId) eq '{lower}'"))) == 1
    assert rows(admin, 'OAuthClientApp', '?$filter=' + q("Name eq 'cased'")) == []
    # the service methods take a client id in any case
    assert result(admin.call('UpdateClient', {'clientId': lower, 'name': 'Renamed'}), 'UpdateClient')['success']
    sim.configure(database='mssql')
    assert len(rows(admin, 'OAuthClientApp', '?$filter=' + q(f"ClientId eq '{lower}'"))) == 1
    assert len(rows(admin, 'OAuthClientApp', '?$filter=' + q("Name eq 'RENAMED'"))) == 1
    assert result(admin.call('DeleteClient', {'clientId': lower}), 'DeleteClient')['success']


def test_guid_filters_need_unquoted_guids(admin):
    rec = cs.AUTOMATION_RECORD_ID
    assert [r['Name'] for r in rows(admin, 'OAuthClientApp', '?$filter=' + q(f'Id eq {rec.upper()}'))] == ['Ansible automation']
    resp = admin.odata('?$filter=' + q(f"Id eq '{rec}'"))
    assert resp.status == 400 and 'Edm.Guid' in resp.json()['error']['message']


# ---------------------------------------------------------------- section 3: Creatio's texts, two languages

SITE_WIDE = [
    ({'oauth_feature': False}, lambda sim: cs.MSG_FEATURE_OFF, 'Feature-EnableOAuth20Integration'),
    ({'identity_up': False}, lambda sim: cs.MSG_IDENTITY_DOWN.format(url=sim.identity_url), 'OAuth20IdentityServerUrl'),
    ({'identity_refuses': True}, lambda sim: cs.MSG_IDENTITY_REFUSES, 'OAuth20IdentityServerClientSecret'),
    ({'default_resource': False}, lambda sim: cs.MSG_NO_DEFAULT_RESOURCE, 'Default resource'),
    ({'admin_rights': False}, lambda sim: cs.MSG_NO_RIGHTS, 'CanManageSolution'),
]


@pytest.mark.parametrize('switch,message,marker', SITE_WIDE)
def test_site_wide_states_write_nothing(admin, sim, switch, message, marker):
    cid = add_code(admin, 'Kept')['clientId']
    before = sim.state()['clients']
    sim.configure(**switch)
    texts = [error_message(admin.call('AddClient', {'name': 'N', 'applicationUrl': 'https://n', 'grantType': 'authorization_code'})),
             error_message(admin.call('UpdateClient', {'clientId': cid, 'name': 'Changed'})),
             error_message(admin.call('DeleteClient', {'clientId': cid}))]
    assert texts == [message(sim)] * 3 and marker in texts[0]
    assert sim.state()['clients'] == before


def test_exact_english_texts():
    assert cs.MSG_FEATURE_OFF == ('To enable OAuth 2.0 set Feature-EnableOAuth20Integration = true in AppSettings section '
                                  'of application config file')
    assert cs.MSG_IDENTITY_DOWN.format(url='http://is') == ('Unable to connect to OAuth server at "http://is" '
                                                            '(system setting OAuth20IdentityServerUrl)')
    assert cs.MSG_IDENTITY_REFUSES == ('Unable to handle client application. Please check the values of the following '
                                       'system settings: OAuth20IdentityServerClientId, OAuth20IdentityServerClientSecret.')
    assert cs.MSG_NO_DEFAULT_RESOURCE == 'Default resource does not exist'
    assert cs.MSG_BAD_USER == 'Specified system user is not valid.'
    assert cs.MSG_NO_RECORD == 'Record with specified Id does not exist.'
    assert 'CanManageSolution' in cs.MSG_NO_RIGHTS


def _protected_parts(english):
    """What a translation must keep: setting names and operation codes, quoted parts, placeholders."""
    parts = [name for name in NOT_TRANSLATED if name in english]
    parts += re.findall(r'"[^"]*"', english) + re.findall(r"'[^']*'", english) + re.findall(r'\{[a-z_]+\}', english)
    return parts


@pytest.mark.parametrize('message_id', sorted(cs.CATALOGUE))
def test_german_catalogue_keeps_untranslated_parts(message_id):
    english, german = cs.CATALOGUE[message_id]
    assert german and german != english
    for part in _protected_parts(english):
        assert part in german, (message_id, part)


def test_german_site(sim):
    sim.reset()
    sim.configure(language='de')
    cl = Client(sim)
    try:
        bad = cl.login('Supervisor', 'wrong').json()
        assert bad['Code'] == 1 and bad['Message'] == 'Benutzername oder Passwort ist falsch.'
        assert cl.odata().json()['Message'] == 'Authentifizierung fehlgeschlagen.'
        cl.login()
        assert 'Unerwarteter Fehler: ' in error_message(cl.call('AddClient', {'applicationUrl': 'https://x', 'grantType': 'authorization_code'}))
        assert error_message(cl.call('DeleteClient', {'clientId': 'F' * 32})) == cs.text('de', 'no_record')
        assert error_message(add_cc_raw(cl, cs.SUPERVISOR_CONTACT_ID)) == cs.text('de', 'bad_user')
        cid = add_code(cl)['clientId']
        for switch, _message, marker in SITE_WIDE:
            sim.configure(**switch)
            text = error_message(cl.call('UpdateClient', {'clientId': cid, 'name': 'N'}))
            assert marker in text or marker == 'Default resource', (switch, text)
            if 'identity_up' in switch:
                assert f'"{sim.identity_url}"' in text and text != cs.MSG_IDENTITY_DOWN.format(url=sim.identity_url)
            sim.configure(**{k: not v for k, v in switch.items()})
        assert error_message(cl.call('DeleteClient', {'clientId': '0' * 32})).startswith('Der Datensatz')
        resp = cl.odata('?$filter=' + q("Nope eq 'x'"))
        assert resp.status == 400 and resp.json()['error']['message'] == (
            "Auf dem Typ 'OAuthClientApp' wurde keine Eigenschaft namens 'Nope' gefunden.")
        resp = cl.odata('?$select=ClientSecret')
        assert resp.status == 400 and "'ClientSecret'" in resp.json()['error']['message'] and 'geschütztem' in resp.json()['error']['message']
        assert 'Ungültiges CSRF-Token.' == cl.call('AddClient', {}, csrf=False).json()['Message']
    finally:
        cl.close()


def add_cc_raw(cl, user):
    """AddClient (client credentials) answer, whatever it is."""
    return cl.call('AddClient', {'name': 'U', 'applicationUrl': 'https://u', 'grantType': 'client_credentials',
                                 'systemUserId': user})


# ---------------------------------------------------------------- section 4: OData columns

def test_every_column_selectable_never_the_secret(admin, sim):
    add_cc(admin, 'Cols')
    columns = ('Id', 'CreatedOn', 'CreatedById', 'ModifiedOn', 'ModifiedById', 'Name', 'ClientId', 'RedirectUrl',
               'ApplicationUrl', 'IsActive', 'SystemUserId', 'Description')
    assert cs.ODATA_COLUMNS == columns
    row = rows(admin, 'OAuthClientApp', '?$filter=' + q("Name eq 'Cols'") + '&$select=' + ','.join(columns))[0]
    assert list(row) == list(columns)
    assert row['CreatedById'] == cs.SUPERVISOR_CONTACT_ID  # a lookup to Contact, as in Creatio
    assert GUID.match(row['Id']) and row['SystemUserId'] == cs.POWERBI_USER_ID and row['Description'] == ''
    for bad in ('?$select=ClientSecret', '?$select=Name,ClientSecret', '?$filter=' + q("ClientSecret eq 'x'"),
                '?$orderby=ClientSecret'):
        resp = admin.odata(bad)
        assert resp.status == 400 and 'ClientSecret' in resp.json()['error']['message'], bad
    assert 'ClientSecret' not in admin.odata().text
    for secret in sim.issued_secrets()['client_secrets'].values():
        assert secret not in admin.odata().text


def test_created_on_strictly_increasing_and_orderby(admin):
    for index in range(25):
        add_code(admin, f'Race {index:02d}')
    found = rows(admin, 'OAuthClientApp', '?$select=Name,CreatedOn&$orderby=CreatedOn')
    stamps = [r['CreatedOn'] for r in found]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', s) for s in stamps)
    assert [r['Name'] for r in found][0] == 'Ansible automation'
    newest = rows(admin, 'OAuthClientApp', '?$select=Name&$orderby=CreatedOn%20desc&$top=1')
    assert newest == [{'Name': 'Race 24'}]
    after = rows(admin, 'OAuthClientApp', '?$select=Name&$filter=' + q(f'CreatedOn gt {stamps[-2]}'))
    assert after == [{'Name': 'Race 24'}]


def test_filter_grammar(admin):
    add_code(admin, 'A')
    add_code(admin, 'B')

    def names(query):
        return sorted(r['Name'] for r in rows(admin, 'OAuthClientApp', '?$select=Name&$filter=' + q(query)))

    assert names("(Name eq 'A' or Name eq 'B') and IsActive eq true") == ['A', 'B']
    assert names("not (Name eq 'A') and SystemUserId eq null") == ['B']
    assert names("startswith(Name,'Ansible') or contains(Name,'B')") == ['Ansible automation', 'B']
    assert names("Name ne 'A' and Name ne 'B'") == ['Ansible automation']
    for bad in ("Name eq 'A' and", "Name eq 4", "IsActive gt true", "Name eq 'x' or or", "Name"):
        assert admin.odata('?$filter=' + q(bad)).status == 400, bad


# ---------------------------------------------------------------- section 4: SysAdminUnit

def test_sysadminunit_users_by_name(admin):
    found = rows(admin, 'SysAdminUnit', '?$filter=' + q("Name eq 'Supervisor' and SysAdminUnitTypeValue eq 4") + '&$select=Id,Name')
    assert found == [{'Id': '7f3b869f-34f3-4f20-ab4d-7480a5fdf647', 'Name': 'Supervisor'}]
    assert cs.SUPERVISOR_ID == '7F3B869F-34F3-4F20-AB4D-7480A5FDF647'.lower()
    both = rows(admin, 'SysAdminUnit', '?$filter=' + q("Name eq 'PowerBIUser'") + '&$select=Id,SysAdminUnitTypeValue,Active')
    assert sorted(r['SysAdminUnitTypeValue'] for r in both) == [1, 4] and all(r['Active'] for r in both)
    assert {r['SysAdminUnitTypeValue'] for r in rows(admin, 'SysAdminUnit', '?$select=SysAdminUnitTypeValue')} >= {0, 1, 2, 4, 6}
    user = rows(admin, 'SysAdminUnit', '?$filter=' + q(f'Id eq {cs.SUPERVISOR_ID}') + '&$select=ContactId,Name')
    assert user == [{'ContactId': cs.SUPERVISOR_CONTACT_ID, 'Name': 'Supervisor'}]
    assert rows(admin, 'SysAdminUnit', '?$filter=' + q(f'Id eq {cs.SUPERVISOR_CONTACT_ID}')) == []
    assert admin.odata('?$select=Password', entity='SysAdminUnit').status == 400


def test_contact_and_role_ids_are_not_system_users(admin, sim):
    for bad in (cs.SUPERVISOR_CONTACT_ID, cs.ROLES[0]['id'], cs.ROLES[4]['id']):
        assert error_message(add_cc_raw(admin, bad)) == cs.MSG_BAD_USER
    assert result(add_cc_raw(admin, cs.SUPERVISOR_ID.upper()), 'AddClient')['success'] is True
    assert len(sim.state()['clients']) == 2


def test_sysadminunit_refused(client, sim):
    sim.configure(sysadminunit_status=403)
    assert client.odata(entity='SysAdminUnit').status == 401
    client.login()
    resp = client.odata(entity='SysAdminUnit')
    assert resp.status == 403 and 'SysAdminUnit' in resp.json()['error']['message']
    assert client.odata().status == 200
    sim.configure(sysadminunit_status=None, odata_status=403)
    assert client.odata(entity='SysAdminUnit').status == 403
    assert client.request('GET', f'{client.api}/odata/$metadata').status == 403


def test_add_unit_control_call(admin, sim):
    made = fetch(sim.control_url + '/units', 'POST', {'name': 'PowerBIUser', 'type': 4}).json()
    assert made['type'] == 4 and GUID.match(made['id'])
    users = rows(admin, 'SysAdminUnit', '?$filter=' + q("Name eq 'PowerBIUser' and SysAdminUnitTypeValue eq 4"))
    assert len(users) == 2
    assert fetch(sim.control_url + '/units', 'POST', {'name': '', 'type': 4}).status == 400
    assert fetch(sim.control_url + '/units', 'POST', {'name': 'x', 'bogus': 1}).status == 400


# ---------------------------------------------------------------- CreateTechnicalUser (8.3)

def test_create_technical_user(admin, sim):
    res = result(admin.call('CreateTechnicalUser', {'name': 'Integration bot'}), 'CreateTechnicalUser')
    assert res['success'] is True and GUID.match(res['systemUserId'])
    found = rows(admin, 'SysAdminUnit', '?$filter=' + q("Name eq 'Integration bot' and SysAdminUnitTypeValue eq 4") + '&$select=Id,Active')
    assert found == [{'Id': res['systemUserId'], 'Active': True}]
    assert result(add_cc_raw(admin, res['systemUserId']), 'AddClient')['success'] is True
    other = Client(sim)
    assert other.login('Integration bot', '').json()['Code'] == 1  # a technical user cannot log in with a password
    other.close()
    again = error_message(admin.call('CreateTechnicalUser', {'name': 'integration BOT'}))
    assert again.startswith('Unexpected error: ') and '"integration BOT"' in again
    assert error_message(admin.call('CreateTechnicalUser', {'name': ' '})).startswith('Unexpected error: ')
    assert admin.call('CreateTechnicalUser', {'name': 'x'}, wrap=False).status == 400
    sim.configure(admin_rights=False)
    assert error_message(admin.call('CreateTechnicalUser', {'name': 'Other'})) == cs.MSG_NO_RIGHTS
    assert [u['name'] for u in sim.state()['users']][-1] == 'Integration bot'


# ---------------------------------------------------------------- OpenID discovery (8.3)

@pytest.mark.parametrize('platform,path', [('netframework', '/0/.well-known/openid-configuration'),
                                           ('netcore', '/.well-known/openid-configuration')])
def test_openid_configuration(platform, path):
    with cs.Simulator(site_path=SITE, platform=platform) as site:
        resp = fetch(site.url + path)  # anonymous
        assert resp.status == 200, resp.body
        doc = resp.json()
        assert doc['issuer'] == site.identity_url
        assert doc['token_endpoint'] == site.identity_url + '/connect/token'
        assert doc['jwks_uri'].startswith(site.identity_url) and 'client_credentials' in doc['grant_types_supported']
        other = '/.well-known/openid-configuration' if platform == 'netframework' else '/0/.well-known/openid-configuration'
        assert fetch(site.url + other).status == 404
        token = fetch(doc['token_endpoint'], 'POST', urllib.parse.urlencode(CC_FORM),
                      {'Content-Type': 'application/x-www-form-urlencoded'})
        assert token.status == 200 and token.json()['token_type'] == 'Bearer'
        assert fetch(site.identity_url + '/.well-known/openid-configuration').json()['token_endpoint'] == doc['token_endpoint']
        assert fetch(doc['jwks_uri']).json() == {'keys': []}
        site.configure(creatio_version='8.1')
        assert fetch(site.url + path).status in (401, 404)
        assert [e['endpoint'] for e in site.log()][:2] == ['OpenIdConfiguration', 'Other']


# ---------------------------------------------------------------- $metadata and the redirect-URI entity

def test_metadata_per_version_and_switch(admin, sim):
    sets = entity_sets(admin)
    assert set(sets) == {'OAuthClientApp', 'SysAdminUnit', cs.DEFAULT_REDIRECT_ENTITY}
    assert tuple(properties(sets['OAuthClientApp'])) == ('Id', 'CreatedOn', 'CreatedById', 'ModifiedOn', 'ModifiedById',
                                                         'Name', 'ClientId', 'ClientSecret', 'RedirectUrl', 'ApplicationUrl',
                                                         'IsActive', 'SystemUserId', 'Description')
    redirect = sets[cs.DEFAULT_REDIRECT_ENTITY]
    assert properties(redirect)['OAuthClientAppId'] == 'Edm.Guid' and properties(redirect)['RedirectUrl'] == 'Edm.String'
    nav = next(redirect.iter(f'{EDM}NavigationProperty'))
    assert nav.get('Type').endswith('.OAuthClientApp')
    assert next(nav.iter(f'{EDM}ReferentialConstraint')).get('Property') == 'OAuthClientAppId'
    assert properties(sets['SysAdminUnit'])['SysAdminUnitTypeValue'] == 'Edm.Int32'
    service = admin.request('GET', f'{SITE}/0/odata').json()
    assert {v['name'] for v in service['value']} == set(sets)
    sim.configure(redirect_entity='hidden')
    assert set(entity_sets(admin)) == {'OAuthClientApp', 'SysAdminUnit'}
    resp = admin.odata(entity=cs.DEFAULT_REDIRECT_ENTITY)
    assert resp.status == 404 and resp.json()['error']['message'] == admin.odata(entity='NoSuchEntity').json()['error']['message'].replace(
        'NoSuchEntity', cs.DEFAULT_REDIRECT_ENTITY)
    sim.configure(redirect_entity='readable', redirect_entity_name='OAuthRedirectUri')
    assert 'OAuthRedirectUri' in entity_sets(admin) and admin.odata(entity='OAuthRedirectUri').status == 200
    assert admin.request('GET', f'{SITE}/0/odata/$metadata').status == 200
    sim.configure(creatio_version='8.1')
    assert 'OAuthRedirectUri' not in entity_sets(admin)
    assert admin.odata(entity='OAuthRedirectUri').status == 404
    anonymous = Client(sim)
    assert anonymous.request('GET', f'{SITE}/0/odata/$metadata').status == 401
    anonymous.close()


def test_redirect_entity_rows_follow_the_service_calls(admin, sim):
    entity = cs.DEFAULT_REDIRECT_ENTITY
    code = add_code(admin, 'Web', redirect='https://web/first')
    record_id = next(c['id'] for c in sim.state()['clients'] if c['clientId'] == code['clientId'])
    by_client = '?$filter=' + q(f'OAuthClientAppId eq {record_id}')

    def listed():
        return sorted((r['Id'], r['RedirectUrl']) for r in rows(admin, entity, by_client + '&$select=Id,RedirectUrl'))

    first = listed()
    assert [u for _i, u in first] == ['https://web/first'] and GUID.match(first[0][0])  # AddClient's URI, id readable here
    added = result(admin.call('AddRedirectUrls', {'clientId': code['clientId'], 'redirectUrls': ['https://web/a', 'https://web/b']}),
                   'AddRedirectUrls')['redirectUrls']
    assert listed() == sorted(first + [(r['id'], r['redirectUrl']) for r in added])
    assert result(admin.call('UpdateRedirectUrl', {'redirectUrlId': added[0]['id'], 'redirectUrl': 'https://web/a2'}),
                  'UpdateRedirectUrl')['success']
    assert result(admin.call('DeleteRedirectUrl', {'redirectUrlId': first[0][0]}), 'DeleteRedirectUrl')['success']
    assert listed() == sorted([(added[0]['id'], 'https://web/a2'), (added[1]['id'], 'https://web/b')])
    state_rows = next(c for c in sim.state()['clients'] if c['clientId'] == code['clientId'])['redirectUrls']
    assert sorted((r['id'], r['redirectUrl']) for r in state_rows) == listed()
    full = rows(admin, entity, by_client)[0]
    assert set(full) == {'Id', 'CreatedOn', 'CreatedById', 'ModifiedOn', 'ModifiedById', 'OAuthClientAppId', 'RedirectUrl'}
    assert full['OAuthClientAppId'] == record_id
    other = add_code(admin, 'Other', redirect='https://other/cb')
    assert len(rows(admin, entity)) == 3 and listed() == sorted((r['id'], r['redirectUrl']) for r in state_rows)
    assert admin.odata("?$filter=" + q(f"OAuthClientAppId eq '{record_id}'"), entity=entity).status == 400
    assert result(admin.call('DeleteClient', {'clientId': code['clientId']}), 'DeleteClient')['success']
    assert listed() == [] and len(rows(admin, entity)) == 1
    del other


# ---------------------------------------------------------------- faults on the new endpoints

NEW_ENDPOINT_CALLS = {
    'CreateTechnicalUser': lambda cl: cl.call('CreateTechnicalUser', {'name': f'T{time.monotonic_ns()}'}),
    'GetClientSecret': lambda cl: cl.call('GetClientSecret', {'clientAppId': cs.AUTOMATION_RECORD_ID}),
    'SysAdminUnit': lambda cl: cl.odata(entity='SysAdminUnit'),
    'RedirectUrlEntity': lambda cl: cl.odata(entity=cs.DEFAULT_REDIRECT_ENTITY),
    'Metadata': lambda cl: cl.request('GET', f'{cl.api}/odata/$metadata'),
    'ODataService': lambda cl: cl.request('GET', f'{cl.api}/odata'),
    'OpenIdConfiguration': lambda cl: cl.request('GET', f'{cl.api}/.well-known/openid-configuration'),
    'IdentityDiscovery': lambda cl: fetch(cl.sim.identity_url + '/.well-known/openid-configuration'),
}


@pytest.mark.parametrize('endpoint', sorted(NEW_ENDPOINT_CALLS))
def test_faults_on_new_endpoints(admin, sim, endpoint):
    call = NEW_ENDPOINT_CALLS[endpoint]
    assert call(admin).status == 200
    sim.configure(faults=[{'endpoint': endpoint, 'status': 502, 'count': 1, 'retry_after': 2}])
    resp = call(admin)
    assert resp.status == 502 and resp.headers['Retry-After'] == '2'
    assert call(admin).status == 200
    sim.configure(faults=[{'endpoint': endpoint, 'delay': 0.15}])
    start = time.monotonic()
    assert call(admin).status == 200 and time.monotonic() - start >= 0.15
    sim.configure(faults=[{'endpoint': endpoint, 'drop': True}])
    with pytest.raises(OSError):
        call(admin)
    entries = [e for e in sim.log() if e['endpoint'] == endpoint]
    assert [e['status'] for e in entries] == [200, 502, 200, 200, None]
    assert entries[-1]['fault']['drop'] is True


def test_fault_after_on_create_technical_user(admin, sim):
    sim.configure(faults=[{'endpoint': 'CreateTechnicalUser', 'status': 500, 'phase': 'after'}])
    assert admin.call('CreateTechnicalUser', {'name': 'Lost answer'}).status == 500
    assert [u['name'] for u in sim.state()['users']][-1] == 'Lost answer'
