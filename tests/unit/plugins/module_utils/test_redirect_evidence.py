# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redirect URIs on a site that does not list them (issue 21): never a duplicate row, never a missing one.

Where the redirect-URI entity cannot be read (``redirect_entity: hidden``), the identity service's
authorization endpoint (``authorize_endpoint: on``) is the evidence, one URI at a time: a lost
AddRedirectUrls answer is settled by it, a declared list adds only the missing URIs, and a row that is
already gone is recognised in any language."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integration
from ansible_collections.creatio.oauth.plugins.module_utils import _authorize_probe as probe
from ansible_collections.creatio.oauth.plugins.module_utils import _site_check as site_check
from ansible_collections.creatio.oauth.plugins.module_utils._connection import Connection
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, LostAnswerError

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import POWERBI_USER_ID  # pylint: disable=import-error

A, B = 'https://portal.example.com/callback', 'https://portal.example.com/silent'
NAME = 'Portal'


def declared(urls, **kw):
    params = {'name': NAME, 'state': 'present', 'grant_type': 'authorization_code', 'application_url': 'https://portal.example.com',
              'system_user_id': None, 'redirect_urls': urls, 'purge_redirect_urls': True, 'active': None,
              'client_id': None, 'client_secret_file': None}
    params.update(kw)
    return integration.declare(params)


def rows(sim, name=NAME):
    return sorted(u['redirectUrl'] for c in sim.state()['clients'] if c['name'] == name for u in c['redirectUrls'])


def row_ids(sim, name=NAME):
    return dict((u['redirectUrl'], u['id']) for c in sim.state()['clients'] if c['name'] == name for u in c['redirectUrls'])


def calls(sim, kind='write'):
    return [e['endpoint'] for e in sim.log() if e['kind'] == kind]


def hand_client(sim, tmp_path):
    """A session of a person on the integration page (a facts cache of its own, never written)."""
    (tmp_path / 'by-hand').mkdir(exist_ok=True)
    return make_run(sim, tmp_path / 'by-hand').client


def by_hand(sim, tmp_path, urls):
    """An integration made on the integration page: no facts cache knows it."""
    client = hand_client(sim, tmp_path)
    made = client.call('AddClient', {'name': NAME, 'applicationUrl': 'https://portal.example.com',
                                     'grantType': 'authorization_code', 'redirectUrl': urls[0]})
    if urls[1:]:
        client.call('AddRedirectUrls', {'clientId': made['clientId'], 'redirectUrls': urls[1:]})
    sim.clear_log()


@pytest.fixture
def hidden(sim):
    sim.configure(redirect_entity='hidden')
    return sim


def lose_the_next_add_redirect_urls_answer(sim, tmp_path, phase='after', **switches):
    """An integration with URI A (the run learns the site's version), then the answer of the next
    AddRedirectUrls is lost: dropped after Creatio acted, or before."""
    integration.apply(make_run(sim, tmp_path), declared([A]))
    sim.configure(faults=[{'endpoint': 'AddRedirectUrls', 'drop': True, 'phase': phase, 'count': 1}], **switches)
    sim.clear_log()


def test_a_lost_add_redirect_urls_answer_is_settled_by_the_authorization_endpoint(hidden, tmp_path):
    lose_the_next_add_redirect_urls_answer(hidden, tmp_path)
    first = integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    assert [op['call'] for op in first['operations']] == ['AddRedirectUrls']
    assert rows(hidden) == [A, B] and calls(hidden) == ['AddRedirectUrls']
    assert 'Authorize' in calls(hidden, 'read')
    hidden.clear_log()
    again = integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    assert again['changed'] is False and calls(hidden) == []
    assert rows(hidden) == [A, B]  # one row each: no duplicate


def test_a_lost_answer_of_an_add_that_did_not_happen_is_sent_once_more(hidden, tmp_path):
    lose_the_next_add_redirect_urls_answer(hidden, tmp_path, phase='before')
    first = integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    assert first['changed'] is True and rows(hidden) == [A, B]
    assert calls(hidden) == ['AddRedirectUrls', 'AddRedirectUrls']


def test_without_the_endpoint_a_lost_answer_still_says_a_rerun_may_duplicate(hidden, tmp_path):
    lose_the_next_add_redirect_urls_answer(hidden, tmp_path, authorize_endpoint='off')
    with pytest.raises(LostAnswerError) as failed:
        integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    assert 'duplicate row' in failed.value.hint
    assert 'Authorize' not in [e['endpoint'] for e in hidden.log()]


def test_a_declared_list_adds_only_the_missing_uri_of_an_integration_made_by_hand(hidden, tmp_path):
    by_hand(hidden, tmp_path, [A])
    run = make_run(hidden, tmp_path)
    result = integration.apply(run, declared([A, B]))
    assert 'unconfirmed_redirect_urls' not in result
    assert [op['request'] for op in result['operations']] == [{'clientId': result['client']['client_id'], 'redirectUrls': [B]}]
    assert rows(hidden) == [A, B]
    hidden.clear_log()
    assert integration.apply(make_run(hidden, tmp_path), declared([A, B]))['changed'] is False
    assert calls(hidden) == [] and rows(hidden) == [A, B]


def test_the_explicit_step_adds_only_the_missing_uri_where_the_endpoint_answers(hidden, tmp_path):
    by_hand(hidden, tmp_path, [A])
    result = integration.apply(make_run(hidden, tmp_path), declared([A, B], add_unconfirmed_redirect_urls=True))
    assert [op['request']['redirectUrls'] for op in result['operations']] == [[B]]
    assert rows(hidden) == [A, B]


def test_without_the_endpoint_the_warning_says_what_the_explicit_step_does(hidden, tmp_path):
    hidden.configure(authorize_endpoint='off')
    by_hand(hidden, tmp_path, [A])
    run = make_run(hidden, tmp_path)
    result = integration.apply(run, declared([A, B]))
    assert result['unconfirmed_redirect_urls'] == [A, B] and calls(hidden) == []
    warning = [w for w in run.warnings if 'unconfirmed' in w][0]
    assert 'adds every declared URI it cannot confirm' in warning and 'second row' in warning
    assert 'to add the missing ones' not in warning


@pytest.mark.parametrize('language', ['en', 'de'])
def test_a_row_deleted_by_hand_is_removed_from_the_list_and_added_back_in_any_language(hidden, tmp_path, language):
    hidden.configure(language=language)
    integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    hand_client(hidden, tmp_path).call('DeleteRedirectUrl', {'redirectUrlId': row_ids(hidden)[B]})
    hidden.clear_log()
    # B is no longer declared: its row is already gone ("does not exist" in the site's language)
    removed = integration.apply(make_run(hidden, tmp_path), declared([A]))
    assert rows(hidden) == [A]
    assert integration.apply(make_run(hidden, tmp_path), declared([A]))['changed'] is False
    assert removed is not None
    # B declared again: the site lacks it, whatever the facts cache says; it is added back, once
    integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    assert rows(hidden) == [A, B]
    hidden.clear_log()
    assert integration.apply(make_run(hidden, tmp_path), declared([A, B]))['changed'] is False
    assert rows(hidden) == [A, B]


def test_a_row_gone_behind_a_stale_cache_is_added_back_when_reverting(hidden, tmp_path):
    hidden.configure(language='de')
    integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    hand_client(hidden, tmp_path).call('DeleteRedirectUrl', {'redirectUrlId': row_ids(hidden)[B]})
    hidden.clear_log()
    result = integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    assert result['changed'] is True and [op['request']['redirectUrls'] for op in result['operations']] == [[B]]
    assert rows(hidden) == [A, B]


def test_the_probe_sends_no_cookie_nor_token(hidden, tmp_path):
    by_hand(hidden, tmp_path, [A])
    integration.apply(make_run(hidden, tmp_path), declared([A, B]))
    probes = [e for e in hidden.log() if e['endpoint'] == 'Authorize']
    assert probes and all(e['auth'] == 'none' for e in probes)


@pytest.mark.parametrize('endpoint, refused', [
    ('https://crm.example.com/identity/connect/authorize', False),
    ('https://crm-is.example.com/connect/authorize', False),
    ('http://crm.example.com/identity/connect/authorize', True),
    ('https://evil.example.net/connect/authorize', True),
    ('https://crm.example.com:8443/connect/authorize', True),
    ('ftp://crm.example.com/connect/authorize', True),
    ('https://user:pw@crm.example.com/connect/authorize', True),
])
def test_the_endpoint_must_be_on_the_site_or_the_identity_service(endpoint, refused):
    connection = Connection('https://crm.example.com', identity_url='https://crm-is.example.com')
    assert bool(probe.endpoint_refusal(endpoint, connection)) is refused


@pytest.mark.parametrize('status, location, body, verdict', [
    (302, 'https://id.example.com/Account/Login?ReturnUrl=x', '', True),
    (302, '/Account/Login?ReturnUrl=x', '', True),
    (302, 'https://app.example.com/cb?error=invalid_scope', '', True),
    (302, 'https://sso.example.org/login', '', None),
    (400, None, '<p>error: invalid_request. Invalid redirect_uri</p>', False),
    (400, None, '<p>unauthorized_client</p>', None),
    (400, None, '<p>Fehler</p>', None),
    (200, None, '<html>login</html>', None),
    (503, None, 'down', None),
])
def test_what_an_answer_of_the_authorization_endpoint_says(status, location, body, verdict):
    assert probe.verdict_of(status, location, body, 'https://id.example.com/connect/authorize', 'https://app.example.com/cb') is verdict


# --- a cached "this site has no redirect-URI entity" is asked again (item 6 of the issue) -------------

def _learn_hidden_then_open(sim, tmp_path):
    """A run learns "no redirect-URI entity" (kept in the facts cache); then the site is upgraded or the
    permission granted, and a URI is added by hand."""
    sim.configure(redirect_entity='hidden', authorize_endpoint='off')
    integration.apply(make_run(sim, tmp_path), declared([A]))
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_entity') == ''
    sim.configure(redirect_entity='readable')
    client_id = [c['clientId'] for c in sim.state()['clients'] if c['name'] == NAME][0]
    hand_client(sim, tmp_path).call('AddRedirectUrls', {'clientId': client_id, 'redirectUrls': [B]})
    sim.clear_log()


def test_the_info_listing_asks_again_whether_the_site_lists_redirect_uris(sim, tmp_path):
    _learn_hidden_then_open(sim, tmp_path)
    listed = integration.list_clients(make_run(sim, tmp_path, name=None))
    portal = [c for c in listed['clients'] if c['name'] == NAME][0]
    assert sorted(u['url'] for u in portal['redirect_urls']) == [A, B]
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_entity')['name']  # the fact is corrected


def test_a_check_mode_run_asks_again_whether_the_site_lists_redirect_uris(sim, tmp_path):
    _learn_hidden_then_open(sim, tmp_path)
    result = integration.apply(make_run(sim, tmp_path, check_mode=True), declared([A]))
    # the drift: B, added by hand, is reported for removal (purge), which only a fresh look can show
    assert [op['call'] for op in result['operations']] == ['DeleteRedirectUrl']
    assert 'RedirectUrlEntity' in [e['endpoint'] for e in sim.log()]


def test_a_day_old_negative_fact_is_asked_again_by_any_run(sim, tmp_path):
    _learn_hidden_then_open(sim, tmp_path)
    assert integration.apply(make_run(sim, tmp_path), declared([A]))['changed'] is False  # a fresh fact: trusted, B unseen
    assert 'Metadata' not in [e['endpoint'] for e in sim.log()]
    run = make_run(sim, tmp_path)
    run.cache.put_site_fact(sim.url, 'redirect_entity_checked_at', int(time.time()) - api.NEGATIVE_FACT_MAX_AGE - 60)
    sim.clear_log()
    result = integration.apply(make_run(sim, tmp_path), declared([A]))
    assert [op['call'] for op in result['operations']] == ['DeleteRedirectUrl']
    assert rows(sim) == [A]


# --- an 8.1 site that serves an OpenID configuration (item 5 of the issue) ----------------------------

def test_an_81_site_with_an_openid_configuration_is_not_taken_for_8_3(sim, tmp_path):
    sim.configure(creatio_version='8.1', openid_configuration='on')
    run = make_run(sim, tmp_path)
    # before 8.3 an authorization code integration has one redirect URI and a system user
    result = integration.apply(run, declared([A], system_user_id=POWERBI_USER_ID))
    assert [op['call'] for op in result['operations']] == ['AddClient']
    assert result['operations'][0]['request'].get('systemUserId') == POWERBI_USER_ID
    assert rows(sim) == [A]
    assert run.facts.has_redirect_methods() is False
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_methods') is False
    assert not [e for e in sim.log() if e['endpoint'] == 'AddRedirectUrls' and e['method'] == 'POST']


def test_a_wrong_8_3_fact_in_the_facts_cache_is_corrected(sim, tmp_path):
    sim.configure(creatio_version='8.1', openid_configuration='on')
    run = make_run(sim, tmp_path)
    run.cache.put_site_fact(sim.url, 'redirect_methods', True)  # kept by an earlier version from the OpenID configuration
    result = integration.apply(make_run(sim, tmp_path), declared([A], system_user_id=POWERBI_USER_ID))
    assert [op['call'] for op in result['operations']] == ['AddClient'] and rows(sim) == [A]
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_methods') is False


def test_a_redirect_uri_method_missing_corrects_the_facts_cache(sim, tmp_path):
    sim.configure(redirect_entity='hidden', authorize_endpoint='off')
    integration.apply(make_run(sim, tmp_path), declared([A]))
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_methods') is True
    sim.configure(creatio_version='8.1', openid_configuration='on')  # restored from an older backup, say
    with pytest.raises(ConfigurationError) as failed:
        integration.apply(make_run(sim, tmp_path), declared([A, B]))
    assert 'has no redirect URI methods' in failed.value.message
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_methods') is False


def test_an_83_site_that_lists_no_redirect_uris_is_told_by_a_read_only_question(sim, tmp_path):
    sim.configure(redirect_entity='hidden')
    run = make_run(sim, tmp_path)
    assert run.facts.has_redirect_methods() is True
    assert [(e['endpoint'], e['method'], e['status']) for e in sim.log() if e['endpoint'] == 'AddRedirectUrls'] == [
        ('AddRedirectUrls', 'GET', 405)]
    assert make_run(sim, tmp_path).cache.site_fact(sim.url, 'redirect_methods') is True


@pytest.mark.parametrize('version, openid, expected', [('8.3', 'auto', '8.3 or later'), ('8.1', 'on', 'before 8.3'),
                                                       ('8.1', 'auto', 'before 8.3')])
def test_the_site_check_reports_the_version_from_decisive_evidence(sim, tmp_path, version, openid, expected):
    sim.configure(creatio_version=version, openid_configuration=openid, redirect_entity='hidden')
    before = sim.state()
    report = site_check.check_site(make_run(sim, tmp_path, creatio_identity_url=sim.identity_url))
    checks = dict((c['check'], c) for c in report['checks'])
    assert checks['Creatio version']['status'] == 'ok' and checks['Creatio version']['detail'].startswith(expected)
    assert report['site']['creatio_version'] == expected
    assert not [e for e in sim.log() if e['kind'] == 'write'] and sim.state()['clients'] == before['clients']


@pytest.mark.parametrize('switches, status', [({}, 'ok'), ({'authorize_endpoint': 'off'}, 'skipped'),
                                              ({'faults': [{'endpoint': 'Authorize', 'status': 200, 'body': '<html/>',
                                                            'count': None}]}, 'failed')])
def test_the_site_check_says_whether_the_authorization_endpoint_answers(sim, tmp_path, switches, status):
    sim.configure(**switches)
    report = site_check.check_site(make_run(sim, tmp_path))
    checks = dict((c['check'], c) for c in report['checks'])
    assert checks['authorization endpoint']['status'] == status, checks['authorization endpoint']
    assert status == 'skipped' or '/identity/connect/authorize' in checks['authorization endpoint']['detail']
    assert all(e['auth'] == 'none' for e in sim.log() if e['endpoint'] == 'Authorize')


class _ErrorRedirectingIdentityService(object):
    """An identity service that answers every authorization request, errors included, with a redirect to a
    page of its own (as an IdentityServer with an error page may): it must never make a URI look registered."""

    def __init__(self):
        self.asked = []

    def request(self, method, url, call, safe, headers=None):
        self.asked.append(url)

        class Answer(object):
            status_code = 302
            headers = {'Location': 'https://id.example.com/home/error?errorId=abc'}
            text = ''
        return Answer()

    def close(self):
        pass


def test_an_identity_service_that_redirects_its_errors_tells_nothing():
    service = _ErrorRedirectingIdentityService()
    connection = Connection('https://crm.example.com', identity_url='https://id.example.com')
    asker = probe.AuthorizeProbe(lambda: None, connection, lambda: service)
    asker._endpoint = 'https://id.example.com/connect/authorize'  # as the OpenID configuration would list it
    assert asker.registered('0123456789ABCDEF0123456789ABCDEF', A) is None
    assert asker.registered_of('0123456789ABCDEF0123456789ABCDEF', [A, B]) is None
    assert len(service.asked) == 1 and 'creatio-oauth-site-check.invalid' in service.asked[0]  # the calibration only
    assert 'registered nowhere' in asker.why_not
