# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Export of a site's integrations as the integrations role's items (_export.py, issue 15 item 3)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _export as export
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules

# The simulator's seeded users (conftest.py put tests/simulator on sys.path).
from creatio_simulator import POWERBI_USER_ID as USER, WEBHOOK_USER_ID  # pylint: disable=import-error


def entry(name, grant, url, user=None, urls=(), active=True, source='server', client_id=None):
    return {'name': name, 'client_id': client_id or ('%032X' % abs(hash(name)))[:32], 'grant_type': grant,
            'application_url': url, 'system_user_id': user, 'active': active,
            'redirect_urls': [{'id': None, 'url': u} for u in urls], 'source': source, 'confirmed_at': None}


def test_presets_recognised_by_grant_and_default_url_and_the_default_left_out():
    items = export.integrations([
        entry('PowerBI', 'client_credentials', 'https://app.powerbi.com', USER),
        entry('Clio', 'client_credentials', 'https://app.clio.com', USER, active=False),
        entry('Outlook', 'authorization_code', 'https://outlook.office.com', urls=['https://b.example/cb', 'https://a.example/cb']),
    ])
    assert items == [
        {'name': 'Clio', 'preset': 'clio', 'system_user_id': USER, 'active': False},
        {'name': 'Outlook', 'preset': 'outlook_addin', 'redirect_urls': ['https://a.example/cb', 'https://b.example/cb']},
        {'name': 'PowerBI', 'preset': 'powerbi', 'system_user_id': USER},
    ]


@pytest.mark.parametrize('grant, url', [
    ('client_credentials', 'https://hooks.example.com'),       # webhooks has no default URL: nothing tells it apart
    ('client_credentials', 'https://outlook.office.com'),      # the outlook default, with the other grant
    ('authorization_code', 'https://app.powerbi.com'),         # the powerbi default, with the other grant
    ('client_credentials', 'https://app.powerbi.com/'),        # not exactly the default
])
def test_anything_else_is_custom_with_everything_explicit(grant, url):
    user = USER if grant == 'client_credentials' else None
    (item,) = export.integrations([entry('X', grant, url, user, urls=['https://x.example/cb'] if user is None else ())])
    assert item['preset'] == 'custom' and item['grant_type'] == grant and item['application_url'] == url
    assert ('system_user_id' in item) == (grant == 'client_credentials') and ('redirect_urls' in item) != ('system_user_id' in item)


def test_cache_only_left_out_duplicates_and_unknown_redirect_uris_warned():
    listed = [
        entry('Gone', 'client_credentials', 'https://gone.example', USER, source='cache-only'),
        entry('Twice', 'client_credentials', 'https://t.example', USER, client_id='B' * 32),
        entry('Twice', 'client_credentials', 'https://t2.example', USER, client_id='A' * 32),
        entry('By hand', 'authorization_code', 'https://h.example'),
    ]
    warnings = []
    items = export.integrations(listed, warnings.append, taken={'Twice': 'b' * 32})
    assert [i['name'] for i in items] == ['By hand', 'Twice']
    assert items[1]['application_url'] == 'https://t.example'  # the one a run takes, whatever its client id
    assert 'redirect_urls' not in items[0]
    assert len(warnings) == 2
    assert "'Twice' (client id %s; exported: %s)" % ('A' * 32, 'b' * 32) in warnings[0]
    assert "redirect URIs of 1 integration(s) ('By hand') are not known" in warnings[1]
    # without the site's rows, which one a run would take cannot be told: none of them is exported
    warnings = []
    assert [i['name'] for i in export.integrations(listed, warnings.append)] == ['By hand']
    assert "none of them is exported: 'Twice'" in warnings[0]


def test_a_redirect_uri_before_8_3_is_exported_as_the_site_holds_it():
    """Creatio 8.1 (issue 21 item 3): no grant types, every client acts as a system user and keeps its
    one redirect URI in RedirectUrl. OData shows the user, so the grant reads as client credentials;
    the item must still carry the redirect URI, in the form that makes the client again on 8.1."""
    listed = entry('Portal', 'client_credentials', 'https://portal.example', USER, urls=['https://portal.example/cb'])
    (item,) = export.integrations([listed], user_names={USER.lower(): 'PowerBIUser'})
    assert item == {'name': 'Portal', 'preset': 'custom', 'grant_type': 'authorization_code',
                    'application_url': 'https://portal.example', 'system_user': 'PowerBIUser',
                    'redirect_urls': ['https://portal.example/cb']}
    (declared,) = batch.declare_all([dict(dict((k, v.get('default')) for k, v in batch.item_argspec().items()), **item)], None)  # the role takes it as it is
    assert declared.desired.redirect_urls == ['https://portal.example/cb'] and declared.desired.system_user == 'PowerBIUser'
    rules.check_create(declared.desired.replace(system_user_id=USER), grant_types=False)  # and 8.1 can create it


def test_of_two_integrations_with_one_name_export_and_runs_take_the_same(sim, tmp_path):
    """Issue 21 item 9: the export took the first by client id, runs the oldest. One rule: the oldest."""
    from ansible_collections.creatio.oauth.plugins.module_utils._integrations import list_clients  # pylint: disable=import-outside-toplevel
    from ansible_collections.creatio.oauth.plugins.module_utils._lookup import lookup  # pylint: disable=import-outside-toplevel
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run  # pylint: disable=import-outside-toplevel
    run = make_run(sim, tmp_path, name=None)
    request = {'name': 'Twice', 'grantType': 'client_credentials', 'systemUserId': USER}
    oldest = _by_hand(run, dict(request, applicationUrl='https://older.example'))['clientId']
    for _attempt in range(60):  # a newer one whose client id sorts first
        newer = _by_hand(run, dict(request, applicationUrl='https://newer.example'))['clientId']
        if newer < oldest:
            break
        run.client.call('DeleteClient', {'clientId': newer})
    assert newer < oldest
    reading = make_run(sim, tmp_path, name=None)
    exported = [i for i in list_clients(reading)['integrations'] if i['name'] == 'Twice']
    assert [i['application_url'] for i in exported] == ['https://older.example']
    assert any("exported: %s" % oldest in w for w in reading.warnings), reading.warnings
    found = lookup(make_run(sim, tmp_path, name=None), 'Twice')
    assert found.record.client_id == oldest and found.same_name == sorted([oldest, newer])


def test_no_client_id_nor_secret_and_every_item_is_valid_for_the_role():
    entries = [entry('PowerBI', 'client_credentials', 'https://app.powerbi.com', USER),
               entry('Custom', 'authorization_code', 'https://c.example', urls=['https://c.example/cb'], active=False),
               entry('Hooks', 'client_credentials', 'https://hooks.example.com', USER)]
    items = export.integrations(entries)
    assert not [k for i in items for k in i if 'client' in k or 'secret' in k]
    spec = batch.item_argspec()
    params = [dict(dict((k, v.get('default')) for k, v in spec.items()), **i) for i in items]
    declared = batch.declare_all(params, None)  # the role's own validation: raises on any problem
    powerbi_default = rules.PRESETS['powerbi'].defaults['application_url']
    assert [d.desired.application_url for d in declared] == ['https://c.example', 'https://hooks.example.com', powerbi_default]


def test_grant_inferred_when_not_given():
    assert export.grant_of({'system_user_id': USER}) == 'client_credentials'
    assert export.grant_of({'system_user_id': None}) == 'authorization_code'
    assert export.grant_of({'grant_type': 'authorization_code', 'system_user_id': USER}) == 'authorization_code'


# --- against the simulator: system users by name, redirect URIs read from the site ------------------


def _by_hand(run, request):
    """AddClient through the collection's client, as a person would on Creatio's page (the facts cache is not told)."""
    return run.client.call('AddClient', request)


def test_export_names_unique_users_and_reads_redirect_uris(sim, tmp_path):
    from ansible_collections.creatio.oauth.plugins.module_utils._integrations import list_clients  # pylint: disable=import-outside-toplevel
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run  # pylint: disable=import-outside-toplevel
    run = make_run(sim, tmp_path, name=None)
    _by_hand(run, {'name': 'PowerBI', 'applicationUrl': 'https://app.powerbi.com', 'grantType': 'client_credentials',
                   'systemUserId': USER})
    _by_hand(run, {'name': 'Hooks', 'applicationUrl': 'https://hooks.example.com', 'grantType': 'client_credentials',
                   'systemUserId': WEBHOOK_USER_ID})
    portal = _by_hand(run, {'name': 'Portal', 'applicationUrl': 'https://p.example.com', 'grantType': 'authorization_code'})
    urls = ['https://p.example.com/b', 'https://p.example.com/a']
    run.client.call('AddRedirectUrls', {'clientId': portal['clientId'], 'redirectUrls': urls})
    sim.add_unit('WebhookUser', unit_type=4)  # a second user with that name: "system_user: WebhookUser" would be ambiguous
    sim.clear_log()
    result = list_clients(make_run(sim, tmp_path, name=None, check_mode=True))
    by_name = dict((i['name'], i) for i in result['integrations'])
    assert by_name['PowerBI'] == {'name': 'PowerBI', 'preset': 'powerbi', 'system_user': 'PowerBIUser'}
    assert by_name['Hooks']['system_user_id'] == WEBHOOK_USER_ID and 'system_user' not in by_name['Hooks']
    # the seeded client acts as Supervisor, whose name is also the password of this run: Ansible would mask it
    assert 'system_user' not in by_name['Ansible automation'] and by_name['Ansible automation']['system_user_id']
    assert by_name['Portal']['redirect_urls'] == ['https://p.example.com/a', 'https://p.example.com/b']
    assert [e['kind'] for e in sim.log() if e['kind'] == 'write'] == []


def test_export_falls_back_to_ids_when_users_cannot_be_read(sim, tmp_path):
    from ansible_collections.creatio.oauth.plugins.module_utils._integrations import list_clients  # pylint: disable=import-outside-toplevel
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run  # pylint: disable=import-outside-toplevel
    run = make_run(sim, tmp_path, name=None)
    _by_hand(run, {'name': 'PowerBI', 'applicationUrl': 'https://app.powerbi.com', 'grantType': 'client_credentials',
                   'systemUserId': USER})
    sim.configure(sysadminunit_status=403)
    reading = make_run(sim, tmp_path, name=None)
    result = list_clients(reading)
    by_name = dict((i['name'], i) for i in result['integrations'])
    assert by_name['PowerBI'] == {'name': 'PowerBI', 'preset': 'powerbi', 'system_user_id': USER}
    assert any('system users are given by id' in w for w in reading.warnings), reading.warnings


def test_many_integrations_with_one_problem_make_one_warning_with_the_count_and_a_few_names():
    """10,000 authorization code integrations whose redirect URIs cannot be read: one line, not 10,000."""
    warnings = []
    entries = [entry('App %05d' % n, 'authorization_code', 'https://a.example' if n % 2 else None) for n in range(10000)]
    entries += [entry('Twice', 'client_credentials', 'https://t%d.example' % n, USER, client_id='%032X' % n) for n in range(30)]
    items = export.integrations(entries, warnings.append, taken={'Twice': '%032X' % 7})
    assert len(items) == 10001
    assert len(warnings) == 3, warnings
    duplicates, redirect, url = warnings
    assert '29 left out' in duplicates and 'and 24 more' in duplicates
    assert "redirect URIs of 10000 integrations ('App 00000', 'App 00001', 'App 00002', 'App 00003', 'App 00004' and 9995 more)" in redirect
    assert "5000 integrations ('App 00000', 'App 00002'" in url and 'and 4995 more' in url
    assert max(len(w) for w in warnings) < 1000


HOSTILE = "{{ 'a template ' ~ 'ran' }}"  # rendered, it would read differently


@pytest.mark.parametrize('text', [
    HOSTILE, "{% if true %}x{% endif %}", "#jinja2:variable_start_string:'[['\n[[ 1 + 1 ]]", 'a "quoted" \\ back\\slash',
    u'line\nbreak\ttab\x85nel\u2028ls\x7fdel \u00e9t\u00e9 \U0001F600', '', 'yes', 'null', '- a: b', '!unsafe x', 'true', '0x1F', '1:20', '2026-01-01',
])
def test_the_export_document_reads_back_as_the_same_text_never_as_a_template(text, tmp_path):
    """What creatio.oauth.export writes: every text !unsafe, read back by Ansible's own loader as the same text."""
    # Ansible's controller code: ansible-test units runs module_utils tests without it (make test's pytest runs them)
    DataLoader = pytest.importorskip('ansible.parsing.dataloader').DataLoader
    from ansible.template import Templar
    items = [{'name': text, 'preset': 'custom', 'grant_type': 'authorization_code', 'application_url': text,
              'redirect_urls': [text, 'https://b.example/cb'], 'active': False}]
    document = export.yaml_document(items, 'https://site.example\n# not a comment')
    path = tmp_path / 'exported.yml'
    path.write_text(document)
    loaded = DataLoader().load_from_file(str(path), trusted_as_template=True)  # as -e @file and host_vars load it
    assert loaded == {'creatio_integrations': items}
    templar = Templar(loader=DataLoader(), variables=loaded)
    assert templar.template(loaded['creatio_integrations'])[0]['name'] == text
    assert templar.template(loaded['creatio_integrations'])[0]['redirect_urls'][0] == text
    assert document.count('\n#') == 2  # the site URL stays on its comment line


def test_the_info_listing_of_many_integrations_without_readable_redirect_uris_warns_once(sim, tmp_path):
    """creatio_oauth_client_info on a site that hides its redirect-URI entity: one warning for all of them."""
    from ansible_collections.creatio.oauth.plugins.module_utils._integrations import list_clients  # pylint: disable=import-outside-toplevel
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run  # pylint: disable=import-outside-toplevel
    run = make_run(sim, tmp_path, name=None)
    for n in range(120):
        _by_hand(run, {'name': 'App %03d' % n, 'applicationUrl': 'https://a.example.com', 'grantType': 'authorization_code'})
    sim.configure(redirect_entity='hidden')
    reading = make_run(sim, tmp_path, name=None, check_mode=True)
    result = list_clients(reading)
    assert len(result['integrations']) == 121
    about_redirect_uris = [w for w in reading.warnings if 'redirect URIs' in w]
    assert len(about_redirect_uris) == 1, reading.warnings
    assert 'of 120 integrations (' in about_redirect_uris[0] and 'and 115 more' in about_redirect_uris[0]
    assert '- name: "App 119"\n' in result['integrations_yaml']
