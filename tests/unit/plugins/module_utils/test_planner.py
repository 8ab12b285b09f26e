# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner is pure: (desired, known) -> operations. Every branch, and apply()."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _planner as planner
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._api_assumptions import parse_added_redirect_urls
from ansible_collections.creatio.oauth.plugins.module_utils._planner import Operation
from ansible_collections.creatio.oauth.plugins.module_utils._records import NEW_CLIENT, Record

# Two of the simulator's seeded users (conftest.py put tests/simulator on sys.path).
from creatio_simulator import POWERBI_USER_ID as USER, WEBHOOK_USER_ID as OTHER_USER  # pylint: disable=import-error

ID_A = '11111111-1111-1111-1111-111111111111'
ID_B = '22222222-2222-2222-2222-222222222222'


def desired(**kw):
    base = {'name': 'App', 'state': 'present', 'grant_type': None, 'application_url': None, 'system_user_id': None,
            'redirect_urls': None, 'purge_redirect_urls': True, 'active': None, 'client_id': None}
    base.update(kw)
    return Declaration(**base)


def cc_entry(**kw):
    base = {'name': 'App', 'client_id': 'cid1', 'grant_type': 'client_credentials', 'application_url': 'https://app.example',
            'system_user_id': USER, 'active': True, 'redirect_urls': []}
    base.update(kw)
    return base


def cc_known(**kw):
    entry = cc_entry(**kw)
    return Record.from_cache(entry['name'], entry)


def code_known(rows=None, **kw):
    base = {'name': 'App', 'client_id': 'cid2', 'grant_type': 'authorization_code', 'application_url': 'https://app.example',
            'system_user_id': None, 'active': True,
            'redirect_urls': rows if rows is not None else [{'id': ID_A, 'url': 'https://a.example/cb'}]}
    base.update(kw)
    return Record.from_cache(base['name'], base)


def calls(plan_or_ops):
    ops = plan_or_ops.operations if isinstance(plan_or_ops, planner.Plan) else plan_or_ops
    return [(op.call, op.request()) for op in ops]


# --- absent ----------------------------------------------------------------------------------------

def test_absent_unknown_is_nothing():
    plan = planner.plan_client(desired(state='absent'), None)
    assert plan.operations == [] and not plan.changed and plan.forget is False


def test_absent_known_deletes_by_client_id():
    plan = planner.plan_client(desired(state='absent'), cc_known())
    assert calls(plan) == [('DeleteClient', {'clientId': 'cid1'})] and plan.changed
    assert 'cid1' in plan.operations[0].summary


def test_absent_pending_is_forgotten_without_a_request():
    plan = planner.plan_client(desired(state='absent'), cc_known(client_id=None, pending=True))
    assert plan.operations == [] and plan.forget is True and not plan.changed


# --- create ----------------------------------------------------------------------------------------

def test_create_client_credentials():
    plan = planner.plan_client(desired(grant_type='client_credentials', application_url='https://app.example',
                                       system_user_id=USER), None)
    assert calls(plan) == [('AddClient', {'name': 'App', 'applicationUrl': 'https://app.example',
                                          'grantType': 'client_credentials', 'systemUserId': USER})]


def test_create_authorization_code_adds_all_uris_in_one_call():
    urls = ['https://a.example/cb', 'com.example.app:/cb', 'https://b.example/cb']
    plan = planner.plan_client(desired(grant_type='authorization_code', application_url='https://app.example',
                                       redirect_urls=urls), None)
    assert calls(plan) == [
        ('AddClient', {'name': 'App', 'applicationUrl': 'https://app.example', 'grantType': 'authorization_code'}),
        ('AddRedirectUrls', {'clientId': NEW_CLIENT, 'redirectUrls': urls}),
    ]
    assert 'redirectUrl' not in plan.operations[0].payload and 'systemUserId' not in plan.operations[0].payload
    plan.operations[1].request()['redirectUrls'].append('x')
    plan.operations[1].payload['redirectUrls'].append('x')
    assert urls == ['https://a.example/cb', 'com.example.app:/cb', 'https://b.example/cb']  # a copy, not the input list


def test_create_inactive_deactivates_after_creating():
    plan = planner.plan_client(desired(grant_type='client_credentials', application_url='https://app.example',
                                       system_user_id=USER, active=False), None)
    assert [c for c, _p in calls(plan)] == ['AddClient', 'UpdateClient']
    assert plan.operations[1].request() == {'clientId': NEW_CLIENT, 'isActive': False}
    assert plan.operations[1].request('new-id') == {'clientId': 'new-id', 'isActive': False}


def test_create_active_true_needs_no_update():
    plan = planner.plan_client(desired(grant_type='client_credentials', application_url='https://app.example',
                                       system_user_id=USER, active=True), None)
    assert [c for c, _p in calls(plan)] == ['AddClient']


@pytest.mark.parametrize('given, option', [
    ({'application_url': 'https://app.example'}, 'grant_type'),
    ({'grant_type': 'client_credentials', 'system_user_id': USER}, 'application_url'),
    ({}, 'grant_type'),
])
def test_create_missing_option(given, option):
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(**given), None)
    assert info.value.option == option
    assert option in info.value.message


def test_create_client_credentials_needs_system_user():
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(grant_type='client_credentials', application_url='https://app.example'), None)
    assert info.value.option == 'system_user_id'


def test_create_authorization_code_needs_a_uri():
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(grant_type='authorization_code', application_url='https://app.example'), None)
    assert info.value.option == 'redirect_urls'


@pytest.mark.parametrize('known, recreate', [
    (cc_known(), True),                             # the cache knew it, Creatio no longer has it
    (cc_known(client_id=None), False),               # pending / never confirmed
])
def test_recreate_plans_a_create(known, recreate):
    plan = planner.plan_client(desired(grant_type='client_credentials', application_url='https://app.example',
                                       system_user_id=USER), known, recreate=recreate)
    assert [c for c, _p in calls(plan)] == ['AddClient']


# --- update ----------------------------------------------------------------------------------------

def test_grant_type_change_is_refused_with_the_replacement_hint():
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(grant_type='authorization_code', redirect_urls=['https://a.example/cb']), cc_known())
    exc = info.value
    assert exc.option == 'grant_type'
    assert 'state: absent' in exc.hint and 'new grant_type' in exc.hint


def test_redirect_urls_with_client_credentials_refused():
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(redirect_urls=['https://a.example/cb']), cc_known())
    assert info.value.option == 'redirect_urls'


def test_system_user_with_authorization_code_refused():
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(system_user_id=USER), code_known())
    assert info.value.option == 'system_user_id'


def test_nothing_to_change():
    plan = planner.plan_client(desired(grant_type='client_credentials', application_url='https://app.example',
                                       system_user_id=USER, active=True), cc_known())
    assert plan.operations == [] and not plan.changed


def test_update_sends_only_the_changed_fields():
    plan = planner.plan_client(desired(application_url='https://new.example', system_user_id=USER, active=None), cc_known())
    assert calls(plan) == [('UpdateClient', {'clientId': 'cid1', 'applicationUrl': 'https://new.example'})]
    plan = planner.plan_client(desired(system_user_id=OTHER_USER, active=False), cc_known())
    assert calls(plan) == [('UpdateClient', {'clientId': 'cid1', 'systemUserId': OTHER_USER, 'isActive': False})]
    assert 'active True -> False' in plan.operations[0].summary


def test_rename_when_the_known_name_differs():
    plan = planner.plan_client(desired(name='New name'), cc_known(name='Old name'))
    assert calls(plan) == [('UpdateClient', {'clientId': 'cid1', 'name': 'New name'})]
    assert "name 'Old name' -> 'New name'" in plan.operations[0].summary


def test_known_without_name_is_not_a_rename():
    assert planner.plan_client(desired(), cc_known(name=None)).operations == []


def test_unknown_grant_type_taken_from_desired():
    # a record from client_id alone: no grant type known; the desired one decides the checks
    with pytest.raises(ConfigurationError):
        planner.plan_client(desired(grant_type='client_credentials', redirect_urls=['https://a.example/cb']),
                            Record(None, client_id='cid'))


def test_redirect_adds_and_purge():
    known = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': ID_B, 'url': 'https://b.example/cb'}])
    plan = planner.plan_client(desired(redirect_urls=['https://a.example/cb', 'https://c.example/cb']), known)
    assert calls(plan) == [('AddRedirectUrls', {'clientId': 'cid2', 'redirectUrls': ['https://c.example/cb']}),
                           ('DeleteRedirectUrl', {'redirectUrlId': ID_B})]


def test_redirect_no_purge_keeps_unlisted():
    known = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': ID_B, 'url': 'https://b.example/cb'}])
    plan = planner.plan_client(desired(redirect_urls=['https://c.example/cb'], purge_redirect_urls=False), known)
    assert calls(plan) == [('AddRedirectUrls', {'clientId': 'cid2', 'redirectUrls': ['https://c.example/cb']})]


def test_redirect_same_set_is_no_change():
    known = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': None, 'url': 'https://b.example/cb'}])
    plan = planner.plan_client(desired(redirect_urls=['https://b.example/cb', 'https://a.example/cb']), known)
    assert plan.operations == []


def test_redirect_removal_with_unknown_id_names_the_uri():
    known = code_known([{'id': None, 'url': 'https://old.example/cb'}, {'id': ID_A, 'url': 'https://a.example/cb'}])
    with pytest.raises(ConfigurationError) as info:
        planner.plan_client(desired(redirect_urls=['https://a.example/cb']), known)
    assert 'https://old.example/cb' in info.value.message
    assert info.value.option == 'redirect_urls'
    assert 'redirect_url_id' in info.value.hint and 'Authorized redirect URIs' in info.value.hint


def test_update_and_redirects_in_one_plan():
    plan = planner.plan_client(desired(application_url='https://new.example', redirect_urls=['https://z.example/cb']),
                               code_known())
    assert [c for c, _p in calls(plan)] == ['UpdateClient', 'AddRedirectUrls', 'DeleteRedirectUrl']


# --- plan_redirect_urls / plan_redirect_url_by_id -----------------------------------------------------

def test_plan_redirect_urls_refuses_client_credentials():
    with pytest.raises(ConfigurationError) as info:
        planner.plan_redirect_urls('App', cc_known(), ['https://a.example/cb'])
    assert info.value.option == 'client_name'


def test_plan_redirect_urls_absent():
    known = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': ID_B, 'url': 'https://b.example/cb'}])
    ops = planner.plan_redirect_urls('App', known, ['https://b.example/cb', 'https://nope.example/cb'], absent=True)
    assert calls(ops) == [('DeleteRedirectUrl', {'redirectUrlId': ID_B})]
    assert planner.plan_redirect_urls('App', known, ['https://nope.example/cb'], absent=True) == []


def test_plan_redirect_urls_absent_with_unknown_id_fails():
    known = code_known([{'id': None, 'url': 'https://a.example/cb'}])
    with pytest.raises(ConfigurationError) as info:
        planner.plan_redirect_urls('App', known, ['https://a.example/cb'], absent=True)
    assert 'https://a.example/cb' in info.value.message


def test_plan_redirect_urls_purge_additions_before_deletions():
    known = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': ID_B, 'url': 'https://b.example/cb'}])
    ops = planner.plan_redirect_urls('App', known, ['https://c.example/cb', 'https://d.example/cb'], purge=True)
    assert calls(ops) == [
        ('AddRedirectUrls', {'clientId': 'cid2', 'redirectUrls': ['https://c.example/cb', 'https://d.example/cb']}),
        ('DeleteRedirectUrl', {'redirectUrlId': ID_A}),
        ('DeleteRedirectUrl', {'redirectUrlId': ID_B}),
    ]
    assert planner.plan_redirect_urls('App', known, ['https://c.example/cb'], purge=False)[0].call == 'AddRedirectUrls'
    assert len(planner.plan_redirect_urls('App', known, ['https://c.example/cb'], purge=False)) == 1


def test_plan_redirect_urls_without_known_client_id_uses_the_placeholder():
    ops = planner.plan_redirect_urls('App', Record('App', grant_type='authorization_code'), ['https://a.example/cb'])
    assert calls(ops) == [('AddRedirectUrls', {'clientId': NEW_CLIENT, 'redirectUrls': ['https://a.example/cb']})]


def test_plan_redirect_url_by_id():
    known = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}])
    assert planner.plan_redirect_url_by_id('App', known, ID_A, 'https://a.example/cb') == []
    assert calls(planner.plan_redirect_url_by_id('App', known, ID_A, 'https://new.example/cb')) == [
        ('UpdateRedirectUrl', {'redirectUrlId': ID_A, 'redirectUrl': 'https://new.example/cb'})]
    # an id the cache does not know (copied from Creatio's page) is still sent
    assert calls(planner.plan_redirect_url_by_id('App', known, ID_B, 'https://a.example/cb')) == [
        ('UpdateRedirectUrl', {'redirectUrlId': ID_B, 'redirectUrl': 'https://a.example/cb'})]
    assert calls(planner.plan_redirect_url_by_id('App', known, ID_B, absent=True)) == [
        ('DeleteRedirectUrl', {'redirectUrlId': ID_B})]
    assert calls(planner.plan_redirect_url_by_id('App', known, ID_A, absent=True)) == [
        ('DeleteRedirectUrl', {'redirectUrlId': ID_A})]
    with pytest.raises(ConfigurationError):
        planner.plan_redirect_url_by_id('App', cc_known(), ID_A, 'https://a.example/cb')


# --- apply / Operation.request ----------------------------------------------------------------------

def test_apply_add_client_real_and_check_mode():
    op = Operation('AddClient', {'name': 'App', 'applicationUrl': 'https://app.example', 'grantType': 'client_credentials',
                                 'systemUserId': USER}, 's')
    real = planner.apply(None, op, client_id='newid')
    assert real.cache_entry() == {'name': 'App', 'client_id': 'newid', 'grant_type': 'client_credentials',
                                  'application_url': 'https://app.example', 'system_user_id': USER, 'active': True,
                                  'redirect_urls': []}
    check = planner.apply(None, op)
    assert check.client_id == NEW_CLIENT and check.active is True and not check.exists
    code = Operation('AddClient', {'name': 'C', 'applicationUrl': 'https://c.example', 'grantType': 'authorization_code'}, 's')
    assert planner.apply(None, code, client_id='x').system_user_id is None


def test_apply_add_redirect_urls_maps_the_ids_it_is_given():
    record = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}])
    before = record.cache_entry()
    op = Operation('AddRedirectUrls', {'redirectUrls': ['https://b.example/cb', 'https://c.example/cb']}, 's', on_client=True,
                   client_id='cid2')
    after = planner.apply(record, op, added_ids={'https://c.example/cb': 'id-c', 'https://b.example/cb': 'id-b'})
    assert after.url_dicts() == [{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': 'id-b', 'url': 'https://b.example/cb'},
                                 {'id': 'id-c', 'url': 'https://c.example/cb'}]
    assert record.cache_entry() == before  # the input record is not modified
    # check mode (nothing told) and an answer without ids: rows with id None
    assert [r.id for r in planner.apply(record, op).redirect_urls] == [ID_A, None, None]
    assert [r.id for r in planner.apply(record, op, added_ids={}).redirect_urls] == [ID_A, None, None]


def test_parse_added_redirect_urls_is_tolerant():
    result = {'success': True, 'redirectUrls': [{'id': 'id-c', 'redirectUrl': 'https://c.example/cb'},
                                                {'Id': 'id-b', 'RedirectUrl': 'https://b.example/cb'}]}
    assert parse_added_redirect_urls(result) == [('id-c', 'https://c.example/cb'), ('id-b', 'https://b.example/cb')]
    assert parse_added_redirect_urls({'success': True}) == []
    # a bare list and the "url" alias are read too
    assert parse_added_redirect_urls([{'redirectUrlId': 'x1', 'url': 'https://b.example/cb'}]) == [('x1', 'https://b.example/cb')]


def test_apply_update_and_delete_redirect_url():
    record = code_known([{'id': ID_A, 'url': 'https://a.example/cb'}, {'id': ID_B, 'url': 'https://b.example/cb'}])
    updated = planner.apply(record, Operation('UpdateRedirectUrl', {'redirectUrlId': ID_A, 'redirectUrl': 'https://z.example/cb'}, 's'))
    assert sorted((r.id, r.url) for r in updated.redirect_urls) == [(ID_A, 'https://z.example/cb'), (ID_B, 'https://b.example/cb')]
    deleted = planner.apply(record, Operation('DeleteRedirectUrl', {'redirectUrlId': ID_B}, 's'))
    assert deleted.url_dicts() == [{'id': ID_A, 'url': 'https://a.example/cb'}]
    unknown = planner.apply(record, Operation('DeleteRedirectUrl', {'redirectUrlId': 'nope'}, 's'))
    assert len(unknown.redirect_urls) == 2
    adopted = Record('App', grant_type='authorization_code')  # URIs unknown: a deletion keeps them unknown
    assert planner.apply(adopted, Operation('DeleteRedirectUrl', {'redirectUrlId': ID_A}, 's')).redirect_urls is None


def test_apply_update_client_only_given_fields():
    record = cc_known()
    after = planner.apply(record, Operation('UpdateClient', {'isActive': False, 'name': 'Renamed'}, 's', True, 'cid1'))
    assert after.cache_entry() == cc_entry(active=False, name='Renamed')
    after = planner.apply(record, Operation('UpdateClient', {'applicationUrl': 'https://n.example', 'systemUserId': OTHER_USER},
                                            's', True, 'cid1'))
    assert after.cache_entry() == cc_entry(application_url='https://n.example', system_user_id=OTHER_USER)


def test_apply_delete_client():
    assert planner.apply(cc_known(), Operation('DeleteClient', {}, 's', True, 'cid1')) is None


def test_plan_of_a_create_applied_in_check_mode():
    plan = planner.plan_client(desired(grant_type='authorization_code', application_url='https://app.example',
                                       redirect_urls=['https://a.example/cb'], active=False), None)
    record = None
    for op in plan.operations:
        record = planner.apply(record, op)
    assert record.active is False and record.url_dicts() == [{'id': None, 'url': 'https://a.example/cb'}]


def test_request_names_the_new_client_only_where_the_plan_does_not_know_it():
    new = Operation('AddRedirectUrls', {'redirectUrls': ['https://a.example/cb']}, 's', on_client=True)
    assert new.request() == {'clientId': NEW_CLIENT, 'redirectUrls': ['https://a.example/cb']}
    assert new.request('real-id') == {'clientId': 'real-id', 'redirectUrls': ['https://a.example/cb']}
    known = Operation('UpdateClient', {'isActive': False}, 's', on_client=True, client_id='already')
    assert known.request('real-id') == {'clientId': 'already', 'isActive': False}
    no_client = Operation('DeleteRedirectUrl', {'redirectUrlId': ID_A}, 's')
    assert no_client.request('real-id') == {'redirectUrlId': ID_A}


def test_operation_as_dict_is_a_copy():
    op = Operation('AddRedirectUrls', {'redirectUrls': ['u']}, 'summary', on_client=True, client_id='c')
    data = op.as_dict()
    assert data == {'call': 'AddRedirectUrls', 'summary': 'summary', 'request': {'clientId': 'c', 'redirectUrls': ['u']}}
    data['request']['redirectUrls'].append('v')
    assert op.payload['redirectUrls'] == ['u']
    assert 'AddRedirectUrls' in repr(op)
