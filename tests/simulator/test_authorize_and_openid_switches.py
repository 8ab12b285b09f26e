"""The switches of issue 21: the Identity Service's authorization endpoint (``authorize_endpoint``) and
an 8.1 site that serves an OpenID configuration (``openid_configuration``)."""

from __future__ import annotations

import os
import sys
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import creatio_simulator as cs  # noqa: E402  pylint: disable=wrong-import-position
from sim_client import Client, add_code, fetch, result  # noqa: E402  pylint: disable=wrong-import-position

URI = 'https://web.example.com/callback'


@pytest.fixture(scope='module')
def sim():
    simulator = cs.Simulator()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def admin(sim):  # pylint: disable=redefined-outer-name
    sim.reset()
    cl = Client(sim)
    assert cl.login().json()['Code'] == 0
    yield cl
    cl.close()


def authorize(sim, client_id, redirect_uri, response_type='code', scope='openid'):  # pylint: disable=redefined-outer-name
    query = urllib.parse.urlencode({'client_id': client_id, 'redirect_uri': redirect_uri, 'response_type': response_type,
                                    'scope': scope})
    return fetch(f'{sim.identity_url}/connect/authorize?{query}')


def openid(sim):  # pylint: disable=redefined-outer-name
    return fetch(f'{sim.api_url}/.well-known/openid-configuration')


def test_authorize_checks_the_client_then_the_redirect_uri_and_changes_nothing(sim, admin):  # pylint: disable=redefined-outer-name
    client_id = add_code(admin, redirect=URI)['clientId']
    before = sim.state()
    registered = authorize(sim, client_id, URI)
    assert registered.status == 302 and '/identity/Account/Login' in registered.headers['Location']
    missing = authorize(sim, client_id, URI + '/other')
    assert missing.status == 400 and missing.is_html and 'redirect_uri' in missing.text
    unknown = authorize(sim, '0' * 32, URI)
    assert unknown.status == 400 and 'unauthorized_client' in unknown.text
    assert authorize(sim, client_id, URI, response_type='token').headers['Location'].startswith(URI + '?error=')
    assert sim.state() == before
    assert [e['endpoint'] for e in sim.log()][-4:] == ['Authorize'] * 4
    assert all(e['auth'] == 'none' for e in sim.log() if e['endpoint'] == 'Authorize')


def test_authorize_logs_what_a_caller_sent_and_answers_in_german(sim, admin):  # pylint: disable=redefined-outer-name
    sim.configure(language='de')
    query = urllib.parse.urlencode({'client_id': '0' * 32, 'redirect_uri': URI, 'response_type': 'code', 'scope': 'x'})
    answer = admin.request('GET', f'/identity/connect/authorize?{query}')
    assert answer.status == 400 and 'unauthorized_client' in answer.text and 'Unbekannter Client' in answer.text
    assert sim.log()[-1]['auth'] == 'forms'  # the test client sent its cookies: the log shows it


def test_authorize_endpoint_off_is_not_served_nor_listed(sim, admin):  # pylint: disable=redefined-outer-name
    client_id = add_code(admin, redirect=URI)['clientId']
    assert 'authorization_endpoint' in openid(sim).json()
    sim.configure(authorize_endpoint='off')
    assert 'authorization_endpoint' not in openid(sim).json()
    assert 'token_endpoint' in openid(sim).json()
    assert authorize(sim, client_id, URI).status == 404


def test_an_81_site_serves_an_openid_configuration_only_when_switched_on(sim, admin):  # pylint: disable=redefined-outer-name
    sim.configure(creatio_version='8.1')
    assert openid(sim).status != 200
    sim.configure(openid_configuration='on')
    assert openid(sim).status == 200 and openid(sim).json()['token_endpoint'].endswith('/connect/token')
    # still 8.1: no redirect URI methods, whatever the OpenID configuration says
    answer = admin.call('DeleteRedirectUrl', {'redirectUrlId': cs.AUTOMATION_RECORD_ID})
    assert answer.status == 404 and 'Endpoint not found.' in answer.text
    sim.configure(creatio_version='8.3', openid_configuration='off')
    assert openid(sim).status != 200
    assert result(admin.call('DeleteRedirectUrl', {'redirectUrlId': cs.AUTOMATION_RECORD_ID}), 'DeleteRedirectUrl')['success'] is False
