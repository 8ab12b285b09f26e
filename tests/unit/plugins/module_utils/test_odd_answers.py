# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Odd answers never make a second integration (issue 20, items 4 and 7): an answer to a write
that cannot be read is settled by reading back, never by sending the write again; an OData answer
of the wrong shape stops the run before any write; a row without a client id never deletes this
run's own creation."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integration
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError, LostAnswerError, UnreadableAnswerError
from ansible_collections.creatio.oauth.plugins.module_utils._executor import RaceLost
from ansible_collections.creatio.oauth.plugins.module_utils._records import Record
from ansible_collections.creatio.oauth.plugins.module_utils._run import error_result

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import POWERBI_USER_ID  # pylint: disable=import-error


def declared(name='PowerBI', **kw):
    params = {'name': name, 'state': 'present', 'grant_type': 'client_credentials', 'application_url': 'https://app.example.com',
              'system_user_id': POWERBI_USER_ID, 'redirect_urls': None, 'purge_redirect_urls': True, 'active': None,
              'client_id': None, 'client_secret_file': None}
    params.update(kw)
    return integration.declare(params)


def named(sim, name='PowerBI'):
    return [c for c in sim.state()['clients'] if c['name'] == name]


def sent(sim, endpoint):
    return [e for e in sim.log() if e['endpoint'] == endpoint]


def apply(sim, tmp_path, name='PowerBI'):
    run = make_run(sim, tmp_path)
    try:
        return run, integration.apply(run, declared(name)), None
    except CreatioError as exc:
        return run, None, exc


def writes(sim):
    return [e['endpoint'] for e in sim.log() if e['kind'] == 'write']


def created_elsewhere(sim, tmp_path, name='PowerBI'):
    """The integration, created by a run with another facts cache (another controller)."""
    (tmp_path / 'other').mkdir()
    _run, result, error = apply(sim, tmp_path / 'other', name)
    assert error is None and result['changed']
    sim.clear_log()
    return named(sim, name)[0]


# --- AddClient carried out, and its answer cannot be read ----------------------------------------

UNREADABLE_ADD_CLIENT_ANSWERS = {
    # a gateway puts its own page in place of the answer (a forms login took it for an expired session)
    'html page': {'body': '<html><body><h1>Gateway</h1><p>Your request was processed.</p></body></html>'},
    'not json': {'rewrite': [['\\}\\s*$', '']]},
    'success as text': {'rewrite': [['"success": true', '"success": "true"']]},
    'no client id': {'rewrite': [['"clientId": "[0-9A-F]+", ', '']]},
    'no client secret': {'rewrite': [[', "clientSecret": "[0-9A-F]+"', '']]},
}


@pytest.mark.parametrize('answer', sorted(UNREADABLE_ADD_CLIENT_ANSWERS))
def test_add_client_carried_out_with_an_unreadable_answer_is_read_back_never_sent_again(sim, tmp_path, answer):
    fault = dict(UNREADABLE_ADD_CLIENT_ANSWERS[answer], endpoint='AddClient', phase='after', count=1)
    sim.configure(faults=[fault])
    run, _result, error = apply(sim, tmp_path)
    assert len(named(sim)) == 1
    assert writes(sim) == ['AddClient'] and len(sent(sim, 'Login')) == 1  # no second login, no second AddClient
    client_id = named(sim)[0]['clientId']
    assert isinstance(error, LostAnswerError)
    failure = error_result(error, run)
    assert client_id in failure['msg'] and 'did create the integration' in failure['msg']
    assert 'secret' in failure['msg'] and 'state: absent' in failure['error']['hint']
    assert 'creatio_url' not in failure['msg']
    assert failure['changed'] is True and [op['call'] for op in failure['operations']] == ['AddClient']
    assert 'client_secret' not in failure
    # an answer that held the secret but could not be trusted: the secret is shown nowhere
    assert not re.search('[0-9A-F]{64}', json.dumps([failure, run.warnings]))
    assert run.cache.get(run.site, 'PowerBI')['client_id'] == client_id
    # the next run finds it and changes nothing
    sim.clear_log()
    _run, result, error = apply(sim, tmp_path)
    assert error is None and result['changed'] is False and writes(sim) == []


def test_an_html_page_in_place_of_add_client_when_nothing_was_created_is_not_sent_again(sim, tmp_path):
    """The page came before Creatio acted: reading back finds nothing. The answer still came and
    cannot be read, so the run marks the integration pending instead of sending AddClient again; the
    next run reads back, finds nothing, and creates it once."""
    sim.configure(faults=[dict(UNREADABLE_ADD_CLIENT_ANSWERS['html page'], endpoint='AddClient', phase='before', count=1)])
    run, _result, error = apply(sim, tmp_path)
    assert isinstance(error, LostAnswerError) and 'not sent again' in error.message
    assert writes(sim) == ['AddClient'] and named(sim) == []
    assert run.cache.get(run.site, 'PowerBI')['pending'] is True
    sim.clear_log()
    _run, result, error = apply(sim, tmp_path)
    assert error is None and result['changed'] is True and writes(sim) == ['AddClient'] and len(named(sim)) == 1


def test_an_html_page_after_add_redirect_urls_acted_is_read_back_not_sent_again(sim, tmp_path):
    """The same for AddRedirectUrls (a second one would add a second row per URI): the rows are read
    back, and found."""
    sim.configure(faults=[dict(UNREADABLE_ADD_CLIENT_ANSWERS['html page'], endpoint='AddRedirectUrls', phase='after', count=1)])
    run = make_run(sim, tmp_path)
    item = declared('Outlook', grant_type='authorization_code', system_user_id=None, application_url='https://outlook.example.com',
                    redirect_urls=['https://addin.example.com/callback'])
    result = integration.apply(run, item)
    assert writes(sim) == ['AddClient', 'AddRedirectUrls'] and len(sent(sim, 'Login')) == 1
    rows = named(sim, 'Outlook')[0]['redirectUrls']
    assert [r['redirectUrl'] for r in rows] == ['https://addin.example.com/callback']
    assert result['client']['redirect_urls'] == [{'id': rows[0]['id'], 'url': 'https://addin.example.com/callback'}]


def test_a_write_that_is_safe_to_repeat_is_still_replayed_after_an_html_login_page(sim, tmp_path):
    """The session-expiry page a proxy turns into HTTP 200 still means "log in again and replay" for a
    call that is safe to repeat (UpdateClient sets absolute values)."""
    _run, result, error = apply(sim, tmp_path)
    run = make_run(sim, tmp_path)
    sim.configure(faults=[dict(UNREADABLE_ADD_CLIENT_ANSWERS['html page'], endpoint='UpdateClient', count=1)])
    run.client.call('UpdateClient', {'clientId': result['client']['client_id'], 'isActive': False})
    assert [e['endpoint'] for e in sim.log()][-3:] == ['UpdateClient', 'Login', 'UpdateClient']
    assert named(sim)[0]['isActive'] is False


# --- OData answers of the wrong shape ---------------------------------------------------------------

WRONG_SHAPES = {
    'value an object': ([['"value": \\[.*\\]', '"value": {"rows": []}']], '"value" is an object, not a list of rows'),
    'name a number': ([['"Name": "PowerBI"', '"Name": 5']], 'the Name of row 1 is a number, not text'),
    'id a list': ([['"Id": ("[^"]+")', '"Id": [\\1]']], 'the Id of row 1 is a list, not text'),
    'row a string': ([['"value": \\[\\{.*\\}\\]', '"value": ["PowerBI"]']], 'row 1 is text, not an object'),
    'no value': ([['"value": \\[.*\\]', '"rows": []']], '"value" is missing, not a list of rows'),
    'active as text': ([['"IsActive": true', '"IsActive": "false"']], 'the IsActive of row 1 is text, not a boolean or null'),
}


@pytest.mark.parametrize('shape', sorted(WRONG_SHAPES))
def test_an_odata_answer_of_the_wrong_shape_stops_before_any_write(sim, tmp_path, shape):
    """Today's integration exists (another controller made it): rows dropped or misread would make
    it look absent and send AddClient for a second one."""
    created_elsewhere(sim, tmp_path)
    rewrite, what = WRONG_SHAPES[shape]
    sim.configure(faults=[{'endpoint': 'OData', 'rewrite': rewrite, 'count': None}])
    _run, _result, error = apply(sim, tmp_path)
    assert isinstance(error, UnreadableAnswerError), error
    assert error.call == 'OData OAuthClientApp' and what in error.message, error.message
    assert writes(sim) == [] and len(named(sim)) == 1


# --- rows without a client id -------------------------------------------------------------------------

NULL_CLIENT_IDS = {'endpoint': 'OData', 'rewrite': [['"ClientId": "[0-9A-F]+"', '"ClientId": null']], 'count': None}


def test_a_known_integration_listed_without_a_client_id_is_neither_created_again_nor_deleted(sim, tmp_path):
    """It used to create a second one, find the two in the read back, delete its own ("race lost"),
    adopt a client id of None, do it all again, and fail with "Module failed: None"."""
    _run, created, _error = apply(sim, tmp_path)
    sim.clear_log()
    sim.configure(faults=[dict(NULL_CLIENT_IDS)])
    run, _result, error = apply(sim, tmp_path)
    assert isinstance(error, UnreadableAnswerError), error
    assert 'without a client id' in error.message and error.call == 'OData OAuthClientApp'
    assert error_result(error, run)['msg'] not in (None, 'None')
    assert writes(sim) == []
    assert [c['clientId'] for c in named(sim)] == [created['client']['client_id']]
    assert run.cache.get(run.site, 'PowerBI')['client_id'] == created['client']['client_id']


def test_an_unknown_integration_listed_without_a_client_id_is_not_created_again(sim, tmp_path):
    created_elsewhere(sim, tmp_path)
    sim.configure(faults=[dict(NULL_CLIENT_IDS)])
    _run, _result, error = apply(sim, tmp_path)
    assert isinstance(error, UnreadableAnswerError) and 'without a client id' in error.message
    assert writes(sim) == [] and len(named(sim)) == 1


def test_a_read_back_without_client_ids_never_deletes_this_runs_creation(sim, tmp_path):
    """Two controllers race; this run's read back after creating shows both without a client id: it
    cannot tell which is its own, so it deletes nothing and says so."""
    (tmp_path / 'a').mkdir()
    run = make_run(sim, tmp_path / 'a')
    item = declared()
    run.reader.read_ahead([integration.lookup_query(run, item)])
    created_elsewhere(sim, tmp_path)
    sim.trigger('AddClient', lambda s: s.configure(faults=[dict(NULL_CLIENT_IDS)]))
    result = integration.apply(run, item)
    assert writes(sim) == ['AddClient'] and len(named(sim)) == 2
    ours = [c['clientId'] for c in named(sim) if c['clientId'] == result['client']['client_id']]
    assert ours and result['client_secret']
    assert [op['call'] for op in result['operations']] == ['AddClient']
    assert any('cannot be told' in w and ours[0] in w for w in run.warnings)


def test_a_lost_race_always_has_a_message():
    lost = RaceLost(Record('PowerBI', client_id=None), [])
    assert str(lost) not in ('', 'None') and 'PowerBI' in str(lost)
