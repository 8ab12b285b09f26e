# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_lookup and _executor against the simulator: lookup, execution with the cache kept in step, check mode
sending no writes, lost AddClient answers settled by reading back, and the one fail_json place."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import time

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _planner as planner
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._executor import execute
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import lookup
from ansible_collections.creatio.oauth.plugins.module_utils._records import NEW_CLIENT, Record
from ansible_collections.creatio.oauth.plugins.module_utils._run import error_result, run_module
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, ConfigurationError, LostAnswerError)
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import (
    ADMIN_PASSWORD, FakeModule, ModuleExit, make_run, module_params)

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import POWERBI_USER_ID  # pylint: disable=import-error


def desired_code(name='Outlook', urls=('https://a.example/cb', 'https://b.example/cb')):
    return Declaration(name=name, state='present', grant_type='authorization_code', application_url='https://outlook.example',
                       system_user_id=None, redirect_urls=list(urls), purge_redirect_urls=True, active=None, client_id=None)


def desired_cc(name='PowerBI'):
    return Declaration(name=name, state='present', grant_type='client_credentials', application_url='https://app.powerbi.com',
                       system_user_id=POWERBI_USER_ID, redirect_urls=None, purge_redirect_urls=True, active=None, client_id=None)


def writes(sim):
    return [e for e in sim.log() if e['kind'] == 'write']


def endpoints(sim, name):
    return [e for e in sim.log() if e['endpoint'] == name]


def cache_text(tmp_path):
    """Every file of the facts cache (one per site, in cache/facts.sites/)."""
    folder = tmp_path / 'cache' / 'facts.sites'
    return ''.join(p.read_text() for p in sorted(folder.glob('*.json'))) if folder.exists() else ''


def create(run, desired):
    found = lookup(run, desired.name)
    plan = planner.plan_client(desired, found.record, recreate=found.recreate)
    created = []
    outcome = execute(run, desired.name, plan, found.record, on_created=lambda cid, secret: created.append((cid, secret)))
    return found, outcome, created


def test_check_mode_sends_no_write_and_keeps_the_cache_untouched(sim, tmp_path):
    run = make_run(sim, tmp_path, check_mode=True)
    found, outcome, created = create(run, desired_code())
    assert found.source == 'none' and found.record is None
    assert [op['call'] for op in outcome.done] == ['AddClient', 'AddRedirectUrls']
    assert outcome.record.client_id == NEW_CLIENT and outcome.secret is None and created == []
    assert writes(sim) == [] and len(endpoints(sim, 'OData')) == 1
    # the facts cache is not written (the login may still be kept in sessions.json beside it)
    assert not (tmp_path / 'cache' / 'facts.json').exists() and not (tmp_path / 'cache' / 'facts.sites').exists()


def test_real_run_keeps_the_cache_in_step_without_the_secret(sim, tmp_path):
    run = make_run(sim, tmp_path)
    found, outcome, created = create(run, desired_code())
    server = [c for c in sim.state()['clients'] if c['name'] == 'Outlook'][0]
    assert created == [(server['clientId'], outcome.secret)] and outcome.secret
    cached = run.cache.get(run.site, 'Outlook')
    assert cached['client_id'] == server['clientId']
    assert sorted((r['id'], r['url']) for r in cached['redirect_urls']) == sorted(
        (r['id'], r['redirectUrl']) for r in server['redirectUrls'])
    assert outcome.secret not in cache_text(tmp_path)
    assert ADMIN_PASSWORD not in cache_text(tmp_path).replace(run.site, '')
    sessions = (tmp_path / 'cache' / 'sessions.json').read_text()
    assert outcome.secret not in sessions
    assert [e['endpoint'] for e in writes(sim)] == ['AddClient', 'AddRedirectUrls']

    # a second run finds it in cache and server, plans nothing, and logs in no more
    sim.clear_log()
    again = make_run(sim, tmp_path)
    found = lookup(again, 'Outlook')
    assert found.source == 'cache+server'
    assert planner.plan_client(desired_code(), found.record).operations == []
    assert [e['endpoint'] for e in sim.log()] == ['OData']


def test_added_redirect_uri_echoed_in_another_form_keeps_its_id(sim, tmp_path):
    """AddRedirectUrls answers with the URI in another form (host and scheme in upper case): it is the same URI once
    normalised as the declared ones are, so the id the answer gives is kept in the facts cache."""
    sim.configure(faults=[{'endpoint': 'AddRedirectUrls', 'count': None,
                           'rewrite': [['"https://a\\.example/cb"', '"HTTPS://A.Example/cb"']]}])
    run = make_run(sim, tmp_path)
    _found, outcome, _created = create(run, desired_code())
    answered = [e for e in sim.log() if e['endpoint'] == 'AddRedirectUrls']
    assert len(answered) == 1 and answered[0]['fault'] is not None  # the echo really came in the other form
    server = [c for c in sim.state()['clients'] if c['name'] == 'Outlook'][0]
    ids = dict((r['redirectUrl'], r['id']) for r in server['redirectUrls'])
    assert sorted(ids) == ['https://a.example/cb', 'https://b.example/cb']
    assert sorted((r.url, r.id) for r in outcome.record.redirect_urls) == sorted(ids.items())
    cached = run.cache.get(run.site, 'Outlook')
    assert sorted((r['url'], r['id']) for r in cached['redirect_urls']) == sorted(ids.items())


def test_verify_false_trusts_the_cache_without_a_request(sim, tmp_path):
    create(make_run(sim, tmp_path), desired_cc())
    sim.clear_log()
    found = lookup(make_run(sim, tmp_path), 'PowerBI', verify=False)
    assert found.source == 'cache' and found.record.client_id
    assert sim.log() == []


def test_adopts_an_integration_found_only_on_the_server(sim, tmp_path):
    create(make_run(sim, tmp_path), desired_cc())
    shutil.rmtree(str(tmp_path / 'cache' / 'facts.sites'))
    run = make_run(sim, tmp_path)
    found = lookup(run, 'PowerBI')
    assert found.source == 'server' and found.record.grant_type == 'client_credentials'
    assert planner.plan_client(desired_cc(), found.record).operations == []


def test_cache_knows_it_but_the_server_lost_it(sim, tmp_path):
    run = make_run(sim, tmp_path)
    create(run, desired_cc())
    sim.reset()
    run = make_run(sim, tmp_path)
    found = lookup(run, 'PowerBI')
    assert found.recreate and found.source == 'cache'
    assert any('no longer in Creatio' in w for w in run.warnings)


def test_odata_refused_falls_back_to_the_cache_with_one_warning(sim, tmp_path):
    create(make_run(sim, tmp_path), desired_cc())
    sim.configure(odata_status=403)
    run = make_run(sim, tmp_path)
    found = lookup(run, 'PowerBI')
    assert found.source == 'cache' and found.record.client_id
    assert run.reader.records(names=['x']) is None
    assert len(run.warnings) == 1 and 'HTTP 403' in run.warnings[0]
    # the first run: its lookup and the read back after creating; this run: one refused read, then the memo
    assert len(endpoints(sim, 'OData')) == 3


def test_lost_add_client_answer_is_settled_by_reading_back(sim, tmp_path):
    sim.configure(faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'after', 'count': 1}])
    run = make_run(sim, tmp_path)
    with pytest.raises(LostAnswerError) as info:
        create(run, desired_cc())
    server = [c for c in sim.state()['clients'] if c['name'] == 'PowerBI']
    assert len(server) == 1 and len(endpoints(sim, 'AddClient')) == 1
    assert server[0]['clientId'] in info.value.message
    assert run.cache.get(run.site, 'PowerBI')['client_id'] == server[0]['clientId']
    # a re-run sees it and does nothing
    sim.clear_log()
    found = lookup(make_run(sim, tmp_path), 'PowerBI')
    assert planner.plan_client(desired_cc(), found.record).operations == [] and writes(sim) == []


def test_add_client_503_read_back_then_sent_once_more(sim, tmp_path):
    sim.configure(faults=[{'endpoint': 'AddClient', 'status': 503, 'count': 1}])
    run = make_run(sim, tmp_path)
    _found, outcome, created = create(run, desired_cc())
    assert [e['status'] for e in endpoints(sim, 'AddClient')] == [503, 200]
    assert len([c for c in sim.state()['clients'] if c['name'] == 'PowerBI']) == 1
    assert outcome.secret and created[0][1] == outcome.secret


def test_add_client_timeout_is_never_sent_again(sim, tmp_path):
    """No answer in time: Creatio may still be creating it, so reading back 'not there' is not 'not created'."""
    run = make_run(sim, tmp_path)
    found = lookup(run, 'PowerBI')  # logged in and read with the normal timeout
    run.client.transport.timeout = 0.3
    sim.configure(faults=[{'endpoint': 'AddClient', 'delay': 1.0, 'count': 1}])
    plan = planner.plan_client(desired_cc(), found.record)
    with pytest.raises(LostAnswerError) as info:
        execute(run, 'PowerBI', plan, found.record)
    assert 'pending' in info.value.hint
    assert run.cache.get(run.site, 'PowerBI')['pending'] is True
    deadline = time.time() + 10
    while not [c for c in sim.state()['clients'] if c['name'] == 'PowerBI'] and time.time() < deadline:
        time.sleep(0.05)
    # the slow AddClient did create it: the next run adopts it instead of creating a second one
    run = make_run(sim, tmp_path)
    found = lookup(run, 'PowerBI')
    assert found.source == 'server' and planner.plan_client(desired_cc(), found.record).operations == []
    assert len(endpoints(sim, 'AddClient')) == 1
    assert len([c for c in sim.state()['clients'] if c['name'] == 'PowerBI']) == 1


def test_lost_add_client_without_odata_marks_pending(sim, tmp_path):
    sim.configure(odata_status=403, faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'after', 'count': 1}])
    run = make_run(sim, tmp_path)
    with pytest.raises(LostAnswerError) as info:
        create(run, desired_cc())
    assert 'pending' in info.value.hint
    assert run.cache.get(run.site, 'PowerBI')['pending'] is True
    # still no OData: the next run refuses to guess and sends no write
    sim.clear_log()
    with pytest.raises(LostAnswerError):
        lookup(make_run(sim, tmp_path), 'PowerBI')
    assert writes(sim) == []
    # OData back: the integration is adopted, nothing is created twice
    sim.configure(odata_status=None)
    run = make_run(sim, tmp_path)
    found = lookup(run, 'PowerBI')
    assert found.source == 'server' and found.record.client_id and any('answer was lost' in w for w in run.warnings)
    assert len(endpoints(sim, 'AddClient')) == 0


def test_pending_marker_is_cleared_by_absent_without_verify(sim, tmp_path):
    sim.configure(odata_status=403, faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'before', 'count': 1}])
    run = make_run(sim, tmp_path)
    with pytest.raises(LostAnswerError) as info:
        create(run, desired_cc())
    assert run.cache.get(run.site, 'PowerBI')['pending'] is True
    sim.clear_log()
    # absent with verify (the default) still refuses to guess
    with pytest.raises(LostAnswerError) as info:
        lookup(make_run(sim, tmp_path), 'PowerBI', absent=True)
    assert 'verify: false' in info.value.hint
    # the user checked Creatio and says it is not there: the marker goes, nothing is sent
    run = make_run(sim, tmp_path, verify=False)
    found = lookup(run, 'PowerBI', verify=False, absent=True)
    plan = planner.plan_client(desired_cc().replace(state='absent'), found.record)
    assert plan.forget and not plan.operations
    execute(run, 'PowerBI', plan, found.record)
    assert run.cache.get(run.site, 'PowerBI') is None
    assert writes(sim) == []


def test_deleting_what_is_gone_is_not_a_change(sim, tmp_path):
    run = make_run(sim, tmp_path)
    record = Record('Gone', client_id='FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF', grant_type='client_credentials', redirect_urls=[])
    plan = planner.plan_client(Declaration(name='Gone', state='absent'), record)
    outcome = execute(run, 'Gone', plan, record)
    assert outcome.done == [] and outcome.record is None
    assert len(endpoints(sim, 'DeleteClient')) == 1


def test_delete_whose_first_answer_was_lost_is_still_a_change(sim, tmp_path):
    run = make_run(sim, tmp_path)
    found, outcome, created = create(run, desired_cc('Doomed'))
    # Creatio deletes, the answer is lost; the transport repeats the (safe) call, which now answers
    # "does not exist": that answer is about our own first try, so the run did change something.
    sim.configure(faults=[{'endpoint': 'DeleteClient', 'drop': True, 'phase': 'after', 'count': 1}])
    plan = planner.plan_client(Declaration(name='Doomed', state='absent'), outcome.record)
    deleted = execute(run, 'Doomed', plan, outcome.record)
    assert [op['call'] for op in deleted.done] == ['DeleteClient'] and deleted.record is None
    assert len(endpoints(sim, 'DeleteClient')) == 2
    assert not [c for c in sim.state()['clients'] if c['name'] == 'Doomed']


def test_failure_reports_what_was_done_and_no_secret(sim, tmp_path):
    run = make_run(sim, tmp_path)
    sim.configure(faults=[{'endpoint': 'AddRedirectUrls', 'status': 500, 'count': 1}])
    with pytest.raises(Exception) as info:
        create(run, desired_code())
    result = error_result(info.value, run)
    assert result['changed'] is True
    assert [op['call'] for op in result['operations']] == ['AddClient']
    # a 500 on AddRedirectUrls may have been applied: a lost answer, not a plain HTTP error
    assert result['error']['type'] == 'LostAnswerError' and result['error']['status'] == 500
    # read back (the redirect-URI entity): Creatio does not have them, and the cache now says so
    assert 'adds only the missing ones' in result['error']['hint'] and 'https://a.example/cb' in result['msg']
    assert 'Creatio does not have' in result['msg']
    text = json.dumps(result)
    for secret in run.client.secrets():
        assert secret not in text
    server = [c for c in sim.state()['clients'] if c['name'] == 'Outlook'][0]
    assert run.cache.get(run.site, 'Outlook')['client_id'] == server['clientId']  # cached right after AddClient


def test_error_result_of_a_configuration_error_names_the_option():
    result = error_result(ConfigurationError('bad', option='grant_type', hint='do this'))
    assert result['error']['option'] == 'grant_type' and result['changed'] is False
    assert result['msg'] == 'bad. hint: do this.'


def test_run_module_scrubs_a_refused_login(sim, tmp_path):
    module = FakeModule(module_params(sim, tmp_path, creatio_password='Wrong-Pa55-Value'))

    def handler(run):
        return {'found': lookup(run, 'x').source}

    with pytest.raises(ModuleExit) as exited:
        run_module(module, handler)
    result = exited.value.result
    assert exited.value.kind == 'fail' and result['error']['type'] == AuthenticationError.__name__
    assert 'Wrong-Pa55-Value' not in json.dumps(result)


def test_validation_happens_before_any_request(sim, tmp_path):
    with pytest.raises(ConfigurationError):
        make_run(sim, tmp_path, creatio_client_id='cid')
    (tmp_path / 'facts.json').write_text('broken')
    with pytest.raises(Exception) as info:
        make_run(sim, tmp_path, cache_path=str(tmp_path / 'facts.json'))
    assert 'not valid JSON' in str(info.value)
    assert sim.log() == []


def test_secret_file_helpers(tmp_path):
    path = str(tmp_path / 'secret.json')
    secret_file.check_secret_file(path)
    secret_file.write_secret_file(path, {'client_secret': 's'})
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    with pytest.raises(ConfigurationError):
        secret_file.check_secret_file(path)
    with pytest.raises(ConfigurationError) as raced:  # a file that appeared after the check
        secret_file.write_secret_file(path, {'client_secret': 'other'})
    assert raced.value.option == 'client_secret_file' and 'client_secret return value' in raced.value.hint
    assert json.load(open(path)) == {'client_secret': 's'}
    with pytest.raises(ConfigurationError):
        secret_file.check_secret_file(str(tmp_path / 'missing' / 'secret.json'))
