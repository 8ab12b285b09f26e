# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 20 (security): secrets in every form they can come back in, time limits that hold for a
trickled answer, paging and token endpoints that stay on the site, and clear messages where Python
or requests used to crash. Against the simulator (its faults ``rewrite``, ``body`` and ``trickle``);
the https cases are in test_transport.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import time

import pytest
import requests

try:
    from urllib.parse import quote, quote_plus, urlencode
except ImportError:  # pragma: no cover
    from urllib import quote, quote_plus, urlencode  # noqa: F401

from ansible_collections.creatio.oauth.plugins.module_utils._auth import login_for
from ansible_collections.creatio.oauth.plugins.module_utils._client import CreatioClient
from ansible_collections.creatio.oauth.plugins.module_utils._connection import Connection
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, CreatioError, NotCreatioEndpointError, TransportError, secret_forms)
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module
from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport, RetryPolicy
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import (
    ADMIN, FakeModule, ModuleExit, client_for, forms_login, make_run, module_params)

from creatio_simulator import AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET  # pylint: disable=import-error

# Quotes, a backslash, non-ASCII, and the characters that URL and form encoding change.
AWKWARD_PASSWORD = u'P\u00e4ss"w\\rd+/=&\u4e2d'


def every_form(secret):
    """The forms a test looks for, written out independently of secret_forms."""
    return set([secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                quote(secret, safe=''), quote(secret), quote_plus(secret), urlencode({'x': secret})[2:]])


def assert_no_form(text, *secrets):
    for secret in secrets:
        for form in every_form(secret):
            assert form not in text, 'a form of a secret (%r) is in %r' % (form, text)


def run_failure(module_params_, service):
    """The fail_json result of run_module for ``service`` (the test fails when the run exits)."""
    module = FakeModule(module_params_)
    with pytest.raises(ModuleExit) as info:
        run_module(module, service)
    assert info.value.kind == 'fail', info.value.result
    return info.value.result


def transport(timeout=5, attempts=1):
    return HttpTransport(timeout=timeout, retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.002))


def oauth_client(site, identity_url, secret=AUTOMATION_CLIENT_SECRET, timeout=5):
    connection = Connection(site, login_kind='oauth', identity_url=identity_url, client_id=AUTOMATION_CLIENT_ID,
                            client_secret=secret)
    return CreatioClient(connection, login_for(connection), transport(timeout))


# --- secrets in another form ------------------------------------------------------------------------------

def test_secret_forms_cover_escaped_and_encoded_forms():
    forms = secret_forms(AWKWARD_PASSWORD)
    assert every_form(AWKWARD_PASSWORD) <= set(forms)
    assert forms == sorted(forms, key=len, reverse=True)  # longest first: no form is left half masked


def test_creatio_error_redacts_every_form():
    text = ' | '.join(sorted(every_form(AWKWARD_PASSWORD)))
    error = CreatioError('said %s' % text, call='Login', creatio_message=text, hint=text)
    error.redact([AWKWARD_PASSWORD])
    assert_no_form(error.full_message(), AWKWARD_PASSWORD)
    assert error.args == (error.message,)


def test_password_echoed_json_escaped_and_encoded_is_scrubbed_from_the_failure(sim_factory, tmp_path):
    """Creatio echoes the request it could not take: the password comes back JSON-escaped (both ways) and
    encoded, inside its message."""
    sim = sim_factory(passwords={ADMIN: AWKWARD_PASSWORD})
    forms = (json.dumps({'UserPassword': AWKWARD_PASSWORD}), json.dumps({'UserPassword': AWKWARD_PASSWORD}, ensure_ascii=False),
             quote(AWKWARD_PASSWORD, safe=''), urlencode({'UserPassword': AWKWARD_PASSWORD}))
    echoed = 'cannot read %s' % '; '.join(forms)
    sim.configure(faults=[{'endpoint': 'Login', 'body': json.dumps({'Code': 1, 'Message': echoed}),
                           'content_type': 'application/json; charset=utf-8', 'count': None}])
    result = run_failure(module_params(sim, tmp_path, creatio_password=AWKWARD_PASSWORD), lambda run: run.client.odata_clients())
    assert result['error']['type'] == 'AuthenticationError' and '********' in result['msg']
    assert_no_form(json.dumps(result, ensure_ascii=False), AWKWARD_PASSWORD)
    assert_no_form(json.dumps(result), AWKWARD_PASSWORD)


def test_unexpected_exception_becomes_a_scrubbed_failure(sim, tmp_path):
    """An exception that is not the collection's own (a requests error quoting a header) fails the task
    with a scrubbed message, not a traceback."""
    def service(run):
        run.client.odata_clients()  # logged in: the cookies are known secrets now
        cookie = run.client.login_method.headers('GET')['Cookie']
        raise requests.exceptions.InvalidHeader('Invalid header value %r with %s' % (cookie, quote_plus(cookie)))
    result = run_failure(module_params(sim, tmp_path), service)
    assert result['error']['type'] == 'CreatioError'
    assert 'unexpected error: InvalidHeader' in result['msg']
    sessions = sim.issued_secrets()['sessions']
    assert sessions and all(s['aspxauth'] not in result['msg'] for s in sessions)
    assert_no_form(result['msg'], *[s['aspxauth'] for s in sessions])


def test_unexpected_exception_inside_the_client_is_scrubbed(sim, monkeypatch):
    """The client's own scrubbing (the ``scrubbed`` decorator) takes any exception, not only its own."""
    login = login_for(Connection(sim.url, login_kind='oauth', identity_url=sim.identity_url, client_id=AUTOMATION_CLIENT_ID,
                                 client_secret=AUTOMATION_CLIENT_SECRET))
    client = client_for(sim.url, login, transport())
    client.odata_clients()
    token = login.token

    def broken(*args, **kwargs):
        raise requests.exceptions.InvalidHeader('Invalid header value: Bearer %s (%s)' % (token, json.dumps(token)))
    monkeypatch.setattr(client.transport, 'request', broken)
    with pytest.raises(CreatioError) as info:
        client.odata_clients()
    assert 'unexpected error: InvalidHeader' in info.value.message
    assert_no_form(info.value.full_message(), token, AUTOMATION_CLIENT_SECRET)


def test_token_that_cannot_go_in_a_header_is_a_clear_error_before_any_request(sim):
    """An identity service answering a token with non-Latin-1 characters: a clear error naming the Token
    call, not Python's UnicodeEncodeError, and no request with it."""
    sim.configure(faults=[{'endpoint': 'Token', 'rewrite': [['"access_token": "', u'"access_token": "\u4e2d\u6587']],
                           'count': None}])
    client = oauth_client(sim.url, sim.identity_url)
    with pytest.raises(NotCreatioEndpointError) as info:
        client.odata_clients()
    assert info.value.call == 'Token' and 'cannot be sent in an HTTP header' in info.value.message
    assert 'creatio_identity_url' in info.value.hint
    assert [e['endpoint'] for e in sim.log()] == ['Token']


# --- time limits hold ------------------------------------------------------------------------------------

def test_trickled_answer_fails_within_about_the_timeout_and_names_the_call(sim):
    """One byte every 0.05 s: each read is quick, so requests' own timeout (per read) never fires; the
    answer (hundreds of bytes) would take half a minute."""
    client = client_for(sim.url, forms_login(sim.url, ADMIN, ADMIN), transport(timeout=1))
    client.odata_clients()  # logged in, the API root known
    sim.configure(faults=[{'endpoint': 'OData', 'trickle': 0.05, 'count': None}])
    started = time.time()
    with pytest.raises(TransportError) as info:
        client.odata_clients()
    assert time.time() - started < 4
    assert 'OData OAuthClientApp' in info.value.message and 'request_timeout (1 s)' in info.value.message
    assert info.value.call == 'OData OAuthClientApp' and info.value.timed_out


def test_trickled_answer_to_an_unsafe_call_may_have_reached_the_server(sim):
    client = client_for(sim.url, forms_login(sim.url, ADMIN, ADMIN), transport(timeout=1, attempts=4))
    sim.configure(faults=[{'endpoint': 'AddClient', 'trickle': 0.05, 'count': None}])
    started = time.time()
    with pytest.raises(TransportError) as info:
        client.call('AddClient', {'name': 'Trickled', 'applicationUrl': 'https://outlook.office.com',
                                  'grantType': 'authorization_code'})
    assert time.time() - started < 4
    assert info.value.may_have_reached_server and info.value.timed_out and info.value.call == 'AddClient'
    assert [e['endpoint'] for e in sim.log()].count('AddClient') == 1  # not repeated
    assert 'Trickled' in json.dumps(sim.state())  # it did reach Creatio


# --- messages --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('url, warned', [('http://site.example', True), ('https://site.example', False),
                                         ('http://127.0.0.1:8080', False), ('http://localhost', False)])
def test_plain_http_site_is_warned(sim, tmp_path, url, warned):
    run = make_run(sim, tmp_path, creatio_url=url)
    assert any('plain http' in w and 'creatio_url' in w for w in run.warnings) is warned


def test_plain_http_identity_service_is_warned(sim, tmp_path):
    run = make_run(sim, tmp_path, creatio_url='https://site.example', creatio_username=None, creatio_password=None,
                   creatio_client_id='cid', creatio_client_secret='secret', creatio_identity_url='http://is.example')
    assert any('plain http' in w and 'creatio_identity_url' in w for w in run.warnings)


def test_unresolvable_host_is_named():
    with pytest.raises(TransportError) as info:
        transport(timeout=5).request('GET', 'http://no-such-host.invalid/0/odata', call='OData OAuthClientApp', safe=True)
    assert 'the host name no-such-host.invalid could not be resolved' in info.value.message
    assert not info.value.may_have_reached_server


def test_token_of_another_identity_service_is_said_to_be_refused_by_the_site(sim_factory):
    """A good token from an identity service the site does not trust: the site answers 401 to it. That is not
    "not permitted to read (OData)": the message says the site refused the token and points at creatio_identity_url."""
    site, other = sim_factory(), sim_factory()
    client = oauth_client(site.url, other.identity_url)
    with pytest.raises(AuthenticationError) as info:
        client.odata_clients()
    assert 'refused the access token' in info.value.message and 'creatio_identity_url' in info.value.hint
    assert info.value.status == 401 and info.value.call == 'OData OAuthClientApp'
    with pytest.raises(AuthenticationError) as info:
        client.call('UpdateClient', {'clientId': AUTOMATION_CLIENT_ID, 'isActive': True})
    assert 'refused the access token' in info.value.message
    assert [e['endpoint'] for e in other.log()].count('Token') >= 2
