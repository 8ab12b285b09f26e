# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One declared integration applied (_integrations.py), and what a batch shares: one OData read
ahead for all its lookups (_lookup.ServerSnapshot), split to fit the query string limit, and never
trusted for an integration another run touched meanwhile."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integration
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._batch import concerns_one_integration
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Options
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import ServerSnapshot
from ansible_collections.creatio.oauth.plugins.module_utils._records import Record
from ansible_collections.creatio.oauth.plugins.module_utils._run import error_result
from ansible_collections.creatio.oauth.plugins.module_utils._odata import filter_chunks
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, BusinessError, ConfigurationError, CreatioError, HttpError, LostAnswerError, RecordNotFoundError,
    TransportError)

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import POWERBI_USER_ID  # pylint: disable=import-error


def declared(name, **kw):
    params = {'name': name, 'state': 'present', 'grant_type': 'client_credentials', 'application_url': 'https://app.example.com',
              'system_user_id': POWERBI_USER_ID, 'redirect_urls': None, 'purge_redirect_urls': True, 'active': None,
              'client_id': None, 'client_secret_file': None}
    params.update(kw)
    return integration.declare(params)


def by_endpoint(sim, endpoint):
    return [e for e in sim.log() if e['endpoint'] == endpoint]


def server_names(sim):
    return sorted(c['name'] for c in sim.state()['clients'])


def read_ahead(run, items):
    options = Options.from_params(run.params)  # as the service's entry point makes them
    run.reader.read_ahead([integration.lookup_query(run, item, options) for item in items])


def apply_all(run, items):
    read_ahead(run, items)
    options = Options.from_params(run.params)
    return [integration.apply(run, item, options=options) for item in items]


def test_a_batch_reads_once_and_a_rerun_sends_one_read_and_no_write(sim, tmp_path):
    items = [declared('Batch %d' % i) for i in range(12)]
    results = apply_all(make_run(sim, tmp_path), items)
    assert [r['operations'][0]['call'] for r in results] == ['AddClient'] * 12
    # one read ahead for all twelve, and one read back after each creation (a race with another cache)
    assert [e['endpoint'] for e in sim.log()] == ['Login', 'OData'] + ['AddClient', 'OData'] * 12
    sim.clear_log()
    again = apply_all(make_run(sim, tmp_path), items)
    assert [r['changed'] for r in again] == [False] * 12
    assert [r['source'] for r in again] == ['cache+server'] * 12
    assert [e['endpoint'] for e in sim.log()] == ['OData']


def test_the_snapshot_sees_changes_made_in_creatio(sim, tmp_path):
    items = [declared('Seen %d' % i) for i in range(3)]
    apply_all(make_run(sim, tmp_path), items)
    gone = [c for c in sim.state()['clients'] if c['name'] == 'Seen 1'][0]
    (tmp_path / 'by hand').mkdir()
    make_run(sim, tmp_path / 'by hand').client.call('DeleteClient', {'clientId': gone['clientId']})
    sim.clear_log()
    run = make_run(sim, tmp_path)
    results = apply_all(run, items)
    assert [r['changed'] for r in results] == [False, True, False]
    assert [op['call'] for op in results[1]['operations']] == ['AddClient']
    assert len(by_endpoint(sim, 'OData')) == 2  # the read ahead, and the read back after creating
    assert any('no longer in Creatio' in w for w in run.warnings)


def test_an_integration_touched_by_another_run_after_the_snapshot_is_read_again(sim, tmp_path):
    """Run A reads ahead; run B (same cache) then creates 'Raced'; A must not create it a second time."""
    item = declared('Raced')
    run_a = make_run(sim, tmp_path)
    read_ahead(run_a, [item])
    assert run_a.reader.snapshot is not None and run_a.reader.snapshot.records == []
    integration.apply(make_run(sim, tmp_path), item)  # run B, between A's snapshot and A's lookup
    sim.clear_log()
    result = integration.apply(run_a, item)
    assert result['changed'] is False and result['source'] == 'cache+server'
    assert [e['endpoint'] for e in sim.log()] == ['OData']  # the fresh read, and no AddClient
    assert server_names(sim).count('Raced') == 1


def test_an_integration_deleted_by_another_run_after_the_snapshot_is_not_taken_as_present(sim, tmp_path):
    """Run A reads ahead while 'Doomed' exists; run B (same cache) deletes it; A must see that it
    is gone (and create it again, as declared), not report it unchanged from the stale snapshot."""
    item = declared('Doomed')
    integration.apply(make_run(sim, tmp_path), item)
    run_a = make_run(sim, tmp_path)
    read_ahead(run_a, [item])
    assert [r.name for r in run_a.reader.snapshot.records] == ['Doomed']
    integration.apply(make_run(sim, tmp_path), declared('Doomed', state='absent'))
    assert server_names(sim).count('Doomed') == 0
    result = integration.apply(run_a, item)
    assert [op['call'] for op in result['operations']] == ['AddClient']
    assert server_names(sim).count('Doomed') == 1


def test_another_controller_racing_is_settled_by_the_read_back_after_creating(sim, tmp_path):
    """The same race against a run that does not write the shared cache (another controller): both
    create, and the read-back right after creating leaves exactly one (the older stays)."""
    item = declared('Other controller')
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    run_a = make_run(sim, tmp_path / 'a')
    read_ahead(run_a, [item])
    integration.apply(make_run(sim, tmp_path / 'b'), item)
    result = integration.apply(run_a, item)
    assert server_names(sim).count('Other controller') == 1
    survivor = [c for c in sim.state()['clients'] if c['name'] == 'Other controller'][0]
    assert [op['call'] for op in result['operations']] == ['AddClient', 'DeleteClient']
    assert result['client']['client_id'] == survivor['clientId'] and 'client_secret' not in result
    assert any('created at the same time by another run' in w for w in run_a.warnings)
    assert run_a.cache.get(run_a.site, 'Other controller')['client_id'] == survivor['clientId']


def test_verify_false_with_everything_cached_reads_nothing_and_builds_no_client(sim, tmp_path):
    items = [declared('Trusted %d' % i) for i in range(3)]
    apply_all(make_run(sim, tmp_path), items)
    sim.clear_log()
    run = make_run(sim, tmp_path, verify=False)
    results = apply_all(run, items)
    assert [r['source'] for r in results] == ['cache'] * 3
    assert sim.log() == [] and run._client is None and run.reader.snapshot is None


def test_verify_false_reads_ahead_only_what_the_cache_does_not_know(sim, tmp_path):
    apply_all(make_run(sim, tmp_path), [declared('Known')])
    sim.clear_log()
    run = make_run(sim, tmp_path, verify=False)
    results = apply_all(run, [declared('Known'), declared('New one')])
    assert [r['source'] for r in results] == ['cache', 'none']
    assert run.reader.snapshot.names == {'New one'}
    assert [e['endpoint'] for e in sim.log()] == ['OData', 'AddClient', 'OData']


def test_a_long_lookup_is_split_under_the_query_string_limit(sim, tmp_path):
    # 60 names of 60 characters: one filter would be about 6 KB, and the simulator (like IIS)
    # refuses a query string over 2 KB with a 404 that reads as "OData not permitted".
    items = [declared(('Integration with a rather long descriptive name number %03d' % i)[:60]) for i in range(60)]
    run = make_run(sim, tmp_path)
    apply_all(run, items)
    first_reads = len(by_endpoint(sim, 'OData')) - 60  # one read back after each creation
    assert first_reads > 1 and all(e['status'] == 200 for e in by_endpoint(sim, 'OData'))
    sim.clear_log()
    run = make_run(sim, tmp_path)
    results = apply_all(run, items)
    assert run.warnings == [] and run.reader.readable is True
    assert [r['source'] for r in results] == ['cache+server'] * 60
    reads = by_endpoint(sim, 'OData')
    # names and client ids: more clauses than the first run, still a handful of requests for 60
    assert first_reads < len(reads) <= 10 and all(e['status'] == 200 for e in reads)
    assert [e['endpoint'] for e in sim.log()] == ['OData'] * len(reads)


def test_filter_chunks_stay_under_the_limit_and_keep_every_clause_in_order():
    clauses = ["Name eq 'n%03d %s'" % (i, 'x' * (i % 40)) for i in range(200)]
    chunks = filter_chunks(clauses, api.ODATA_MAX_FILTER_LENGTH)
    assert len(chunks) > 1 and all(len(c) <= api.ODATA_MAX_FILTER_LENGTH for c in chunks)
    from urllib.parse import unquote  # pylint: disable=import-outside-toplevel
    assert [c for chunk in chunks for c in unquote(chunk).split(' or ')] == clauses
    assert filter_chunks(["Name eq '%s'" % ('y' * 3000)], 100) == [filter_chunks(["Name eq '%s'" % ('y' * 3000)], 10 ** 6)[0]]
    assert filter_chunks([], 100) == []


def test_the_snapshot_answers_only_what_it_was_asked_and_only_for_an_unchanged_cache_entry():
    rows = [Record('A', client_id='a1'), Record('B', client_id='b1')]
    snap = ServerSnapshot(rows, ['A', 'B'], ['a1'], {'A': {'name': 'A', 'client_id': 'a1'}, 'B': None})
    assert snap.answers(['A'], ['a1'], {'name': 'A', 'client_id': 'a1'})
    assert snap.answers(['B'], [], None)
    assert not snap.answers(['B'], [], {'name': 'B', 'client_id': 'b1'})  # cached since: another run
    assert not snap.answers(['A'], ['a1'], {'name': 'A', 'client_id': 'a2'})
    assert not snap.answers(['A'], ['zz'], {'name': 'A', 'client_id': 'a1'})  # an id it did not ask for
    assert not snap.answers(['C'], [], None)
    assert [r.name for r in snap.records_for(['B'], ['a1'])] == ['A', 'B']
    snap.records_for(['A'], [])[0].name = 'changed'
    assert rows[0].name == 'A'


def refused(message):
    """A business error as the client raises it for Creatio's ``message``."""
    return BusinessError('x', call='AddClient', creatio_message=message, site_wide=api.site_wide_kind(message)[0])


@pytest.mark.parametrize('exc, one', [
    (ConfigurationError('x', option='name'), True),
    (LostAnswerError('x', call='AddClient'), True),
    (refused('Specified system user is not valid.'), True),
    (refused('Angegebener Systembenutzer ist ungültig.'), True),  # another language: still one integration's
    (RecordNotFoundError('x', call='UpdateClient', creatio_message='Record with specified Id does not exist.'), True),
    (refused('Unexpected error: something went wrong'), True),
    # Creatio's own site-wide texts (contract section 3), in English and as a German site words them:
    # recognised by the setting names and codes, which are not translated
    (refused('To enable OAuth 2.0 set Feature-EnableOAuth20Integration = true in AppSettings section of application '
             'config file'), False),
    (refused('Um OAuth 2.0 zu aktivieren, setzen Sie Feature-EnableOAuth20Integration = true im Abschnitt AppSettings'), False),
    (refused('Unable to connect to OAuth server at "https://is.example" (system setting OAuth20IdentityServerUrl)'), False),
    (refused('Verbindung zum OAuth-Server unter "https://is.example" nicht möglich (Systemeinstellung '
             'OAuth20IdentityServerUrl)'), False),
    (refused('Unable to handle client application. Please check the values of the following system settings: '
             'OAuth20IdentityServerClientId, OAuth20IdentityServerClientSecret.'), False),
    (refused('Default resource does not exist'), False),
    (refused('Insufficient rights for the CanManageSolution operation'), False),
    (AuthenticationError('x', call='Login'), False),
    (TransportError('x', call='AddClient'), False),
    (HttpError('x', call='AddClient', status=403), False),
])
def test_which_failures_concern_one_integration(exc, one):
    assert concerns_one_integration(exc) is one


def test_each_site_wide_text_has_its_own_hint():
    hints = dict((kind, hint) for kind, _markers, hint in api.SITE_WIDE_MESSAGES)
    assert len(set(hints.values())) == len(hints)
    assert api.site_wide_kind('... (system setting OAuth20IdentityServerUrl)') == ('identity_unreachable', hints['identity_unreachable'])
    assert 'OAuth20IdentityServerUrl' in hints['identity_unreachable']
    assert api.site_wide_kind('Specified system user is not valid.') == (None, None)


def test_a_configuration_error_is_placed_in_its_list_item():
    exc = ConfigurationError('system_user_id is not a GUID', option='system_user_id', hint='copy the Id').within('clients[3]')
    assert exc.option == 'clients[3].system_user_id'
    assert exc.full_message().startswith('clients[3]: system_user_id is not a GUID')
    assert str(exc) == exc.message
    assert ConfigurationError('bad').within('clients[0]').option == 'clients[0]'
    quiet = ConfigurationError('bad', option='name').within('clients[1]', say_where=False)
    assert quiet.option == 'clients[1].name' and quiet.message == 'bad'


def test_a_secret_file_in_a_folder_others_can_open_is_written_with_a_warning(sim, tmp_path):
    shared, private = tmp_path / 'shared', tmp_path / 'private'
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private.mkdir(mode=0o700)
    run = make_run(sim, tmp_path)
    integration.apply(run, declared('Private', client_secret_file=str(private / 'p.json')))
    assert run.warnings == []
    integration.apply(run, declared('Shared', client_secret_file=str(shared / 's.json')))
    assert (shared / 's.json').exists() and oct((shared / 's.json').stat().st_mode & 0o777) == oct(0o600)
    assert len(run.warnings) == 1 and 'mode 0755' in run.warnings[0] and 'chmod 700 %s' % shared in run.warnings[0]
    labelled = ConfigurationError('bad', option='name').within('clients[2]', label='clients[2] (PowerBI)')
    assert labelled.option == 'clients[2].name' and labelled.message == 'clients[2] (PowerBI): bad'


def test_a_secret_file_that_cannot_be_written_after_creation_keeps_the_secret_in_the_result(sim, tmp_path, monkeypatch):
    target = tmp_path / 'raced.json'
    target.write_text(u'{"someone": "else"}\n')
    monkeypatch.setattr(secret_file, 'check_secret_file', lambda path: None)  # the file appears after the check
    run = make_run(sim, tmp_path)
    with pytest.raises(CreatioError) as raised:
        integration.apply(run, declared('Raced secret', client_secret_file=str(target)))
    result = error_result(raised.value, run)
    assert [op['call'] for op in result['operations']] == ['AddClient'] and result['changed'] is True
    assert len(result['client_secret']) >= 20  # also in the result, as documented for the creating run
    kept = secret_file.kept_secret_files(secret_file.kept_folder(run.cache.path), run.site, 'Raced secret')
    assert len(kept) == 1 and 'The secret is kept in %s' % kept[0] in result['msg']
    assert json.load(open(kept[0]))['client_secret'] == result['client_secret']
    assert target.read_text() == u'{"someone": "else"}\n'
    server = [c for c in sim.state()['clients'] if c['name'] == 'Raced secret']
    assert len(server) == 1 and run.cache.get(run.site, 'Raced secret')['client_id'] == server[0]['clientId']
    # the next run leaves both (the file holds something else), then completes the file once it is moved away
    again = make_run(sim, tmp_path)
    integration.apply(again, declared('Raced secret', client_secret_file=str(target)))
    assert os.path.exists(kept[0]) and any('holds something else' in w for w in again.warnings), again.warnings
    target.unlink()
    last = make_run(sim, tmp_path)
    assert integration.apply(last, declared('Raced secret', client_secret_file=str(target)))['changed'] is True
    assert json.load(open(str(target)))['client_secret'] == result['client_secret'] and not os.path.exists(kept[0])
    assert [e['endpoint'] for e in sim.log()].count('AddClient') == 1


# ---------------------------------------------------------------- redirect URIs: the site's list counts

CODE_URLS = ['https://code.example.com/callback', 'https://code.example.com/silent']


def code_items(count):
    return [declared('Code %d' % i, grant_type='authorization_code', system_user_id=None, redirect_urls=CODE_URLS)
            for i in range(count)]


def test_a_rerun_reads_the_redirect_uri_rows_of_a_batch_in_one_request_and_they_win_over_the_cache(sim, tmp_path):
    items = code_items(3)
    apply_all(make_run(sim, tmp_path), items)
    cached = make_run(sim, tmp_path).cache.get(sim.url, 'Code 1')
    # Behind the cache's back (a run killed before it recorded this): Creatio removes one row of Code 1
    gone = [r for r in cached['redirect_urls'] if r['url'] == CODE_URLS[1]][0]
    make_run(sim, tmp_path).client.call('DeleteRedirectUrl', {'redirectUrlId': gone['id']})
    sim.clear_log()
    run = make_run(sim, tmp_path)
    again = apply_all(run, items)
    # one read for the lookups, one for the rows of all three, then the one missing row added back
    assert [e['endpoint'] for e in sim.log()] == ['OData', 'RedirectUrlEntity', 'AddRedirectUrls']
    assert [r['changed'] for r in again] == [False, True, False]
    assert again[1]['operations'][0]['request']['redirectUrls'] == [CODE_URLS[1]]
    assert len(run.warnings) == 1 and "the facts cache had the redirect URIs" in run.warnings[0] and 'Code 1' in run.warnings[0]
    rows = dict((c['name'], sorted(u['redirectUrl'] for u in c['redirectUrls'])) for c in sim.state()['clients'])
    assert all(rows['Code %d' % i] == sorted(CODE_URLS) for i in range(3))


def test_redirect_uri_rows_that_cannot_be_read_leave_the_cache_list_with_a_warning(sim, tmp_path):
    items = code_items(2)
    apply_all(make_run(sim, tmp_path), items)
    sim.clear_log()
    sim.configure(faults=[{'endpoint': 'RedirectUrlEntity', 'status': 500, 'count': 100}])
    run = make_run(sim, tmp_path)
    again = apply_all(run, items)
    assert [r['changed'] for r in again] == [False, False]
    assert not [e for e in sim.log() if e['kind'] == 'write']
    # tried once for the batch (with the transport's retries), not again per integration
    assert 1 <= len(by_endpoint(sim, 'RedirectUrlEntity')) <= 4
    assert len(run.warnings) == 1 and 'could not be read' in run.warnings[0] and 'HTTP status: 500' in run.warnings[0]


def test_a_redirect_uri_row_naming_no_client_asked_for_leaves_the_cache_list_with_a_warning(sim, tmp_path, monkeypatch):
    """A row whose owner cannot be matched (an entity shaped otherwise than assumed) is never read as "no URIs"."""
    sim.configure(authorize_endpoint='off')  # no other evidence either (with it: test_redirect_evidence.py)
    items = code_items(2)
    apply_all(make_run(sim, tmp_path), items)
    cached = dict((i.name, make_run(sim, tmp_path).cache.get(sim.url, i.name)['redirect_urls']) for i in items)
    # Behind the cache's back: Creatio loses a row of Code 1, which must NOT be taken as the site's whole list
    gone = [r for r in cached['Code 1'] if r['url'] == CODE_URLS[1]][0]
    make_run(sim, tmp_path).client.call('DeleteRedirectUrl', {'redirectUrlId': gone['id']})
    run = make_run(sim, tmp_path)
    real_rows = type(run.client).odata_rows

    def rows_with_a_stranger(client, entity, columns, clauses):
        rows = list(real_rows(client, entity, columns, clauses))
        if entity != 'OAuthClientApp' and rows:
            rows.append(dict(rows[0], **{columns[1]: '{0123456789abcdef0123456789abcdef}'}))
        return rows
    monkeypatch.setattr(type(run.client), 'odata_rows', rows_with_a_stranger)
    sim.clear_log()
    again = apply_all(run, items)
    assert [r['changed'] for r in again] == [False, False]  # the cache's lists stand: nothing added, nothing deleted
    assert not [e for e in sim.log() if e['kind'] == 'write']
    assert len(run.warnings) == 1 and 'names no client that was asked for' in run.warnings[0], run.warnings
    assert all(make_run(sim, tmp_path).cache.get(sim.url, n)['redirect_urls'] == cached[n] for n in cached)


def test_creatio_redirect_url_takes_the_site_rows_over_a_stale_cache(sim, tmp_path):
    from ansible_collections.creatio.oauth.plugins.module_utils import _redirect_urls as redirect_urls  # pylint: disable=import-outside-toplevel
    apply_all(make_run(sim, tmp_path), code_items(1))
    cached = make_run(sim, tmp_path).cache.get(sim.url, 'Code 0')
    gone = [r for r in cached['redirect_urls'] if r['url'] == CODE_URLS[0]][0]
    make_run(sim, tmp_path).client.call('DeleteRedirectUrl', {'redirectUrlId': gone['id']})
    sim.clear_log()
    run = make_run(sim, tmp_path, client_name='Code 0', client_id=None, redirect_urls=CODE_URLS, redirect_url=None,
                   redirect_url_id=None, state='present', purge=False, add_unconfirmed_redirect_urls=False)
    result = redirect_urls.apply(run)
    # the cache said both were there; Creatio lists one: the missing one is added back, once
    assert result['added'] == [CODE_URLS[0]] and result['changed'] is True
    assert any('the facts cache had the redirect URIs' in w for w in run.warnings)
    rows = [u['redirectUrl'] for c in sim.state()['clients'] if c['name'] == 'Code 0' for u in c['redirectUrls']]
    assert sorted(rows) == sorted(CODE_URLS)


def test_before_8_3_the_redirect_url_column_wins_over_a_stale_cache(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    item = declared('Old code', grant_type='authorization_code', redirect_urls=[CODE_URLS[0]])
    apply_all(make_run(sim, tmp_path), [item])
    # the cache is left behind the site: it claims another URI than the one Creatio has
    run = make_run(sim, tmp_path)
    record = run.cache.get(sim.url, 'Old code')
    record['redirect_urls'] = [{'id': None, 'url': CODE_URLS[1]}]
    run.cache.put(sim.url, 'Old code', record)
    sim.clear_log()
    run = make_run(sim, tmp_path)
    result = apply_all(run, [item])[0]
    assert result['changed'] is False and not [e for e in sim.log() if e['kind'] == 'write']
    assert [u['url'] for u in result['client']['redirect_urls']] == [CODE_URLS[0]]
    assert any('the facts cache had the redirect URIs' in w for w in run.warnings)


def test_the_site_version_is_kept_only_from_answers_not_from_failed_reads(sim, tmp_path):
    sim.configure(faults=[{'endpoint': 'OpenIdConfiguration', 'status': 503, 'count': 100},
                          {'endpoint': 'Metadata', 'status': 503, 'count': 100}])
    run = make_run(sim, tmp_path)
    assert run.facts.has_redirect_methods() is False  # this run cannot tell: it goes by what it could read
    assert run.cache.site_fact(sim.url, 'redirect_methods') is None  # but keeps nothing: the next run asks again
    sim.configure(faults=[])
    run = make_run(sim, tmp_path)
    assert run.facts.has_redirect_methods() is True
    assert run.cache.site_fact(sim.url, 'redirect_methods') is True


# ---------------------------------------------------------------- the info listing takes the site's rows too

def test_the_info_listing_shows_the_redirect_uri_rows_the_site_lists_read_at_once(sim, tmp_path):
    items = code_items(3)
    apply_all(make_run(sim, tmp_path), items)
    cached = make_run(sim, tmp_path).cache.get(sim.url, 'Code 1')
    gone = [r for r in cached['redirect_urls'] if r['url'] == CODE_URLS[1]][0]
    make_run(sim, tmp_path).client.call('DeleteRedirectUrl', {'redirectUrlId': gone['id']})  # behind the cache's back
    sim.clear_log()
    run = make_run(sim, tmp_path, name=None, check_mode=True)
    listed = integration.list_clients(run)
    clients = dict((c['name'], c) for c in listed['clients'])
    assert [u['url'] for u in clients['Code 1']['redirect_urls']] == [CODE_URLS[0]] and clients['Code 1']['source'] == 'cache+server'
    assert all(sorted(u['url'] for u in clients['Code %d' % i]['redirect_urls']) == sorted(CODE_URLS) for i in (0, 2))
    exported = dict((i['name'], i) for i in listed['integrations'])
    assert exported['Code 1']['redirect_urls'] == [CODE_URLS[0]]
    # one read of the rows for every integration listed, none per integration; nothing written
    assert len(by_endpoint(sim, 'RedirectUrlEntity')) == 1 and not [e for e in sim.log() if e['kind'] == 'write']
    assert any("'Code 1'" in w and 'the facts cache had the redirect URIs' in w for w in run.warnings), run.warnings


def test_the_info_listing_before_8_3_shows_the_redirect_url_column_over_a_stale_cache(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    apply_all(make_run(sim, tmp_path), [declared('Old code', grant_type='authorization_code', redirect_urls=[CODE_URLS[0]])])
    run = make_run(sim, tmp_path)
    record = run.cache.get(sim.url, 'Old code')
    record['redirect_urls'] = [{'id': None, 'url': CODE_URLS[1]}]
    run.cache.put(sim.url, 'Old code', record)
    listed = integration.list_clients(make_run(sim, tmp_path, name='Old code', check_mode=True))
    assert [[u['url'] for u in c['redirect_urls']] for c in listed['clients']] == [[CODE_URLS[0]]]


def test_the_info_listing_before_8_3_shows_an_empty_redirect_url_column_over_a_stale_cache(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    # before 8.3 a client has no grant type: one with a system user reads back as client credentials
    apply_all(make_run(sim, tmp_path), [declared('Old code')])
    run = make_run(sim, tmp_path)
    record = run.cache.get(sim.url, 'Old code')
    # the cache claims a URI the site's RedirectUrl column (empty on every client) does not hold
    record.update(grant_type='authorization_code', redirect_urls=[{'id': None, 'url': CODE_URLS[1]}])
    run.cache.put(sim.url, 'Old code', record)
    listed = integration.list_clients(make_run(sim, tmp_path, name='Old code', check_mode=True))
    assert [c['redirect_urls'] for c in listed['clients']] == [[]]


def test_the_info_listing_keeps_the_cache_lists_when_the_rows_cannot_be_read(sim, tmp_path):
    apply_all(make_run(sim, tmp_path), code_items(2))
    sim.configure(faults=[{'endpoint': 'RedirectUrlEntity', 'status': 500, 'count': 100}])
    run = make_run(sim, tmp_path, name=None, check_mode=True)
    clients = dict((c['name'], c) for c in integration.list_clients(run)['clients'])
    assert all(sorted(u['url'] for u in clients['Code %d' % i]['redirect_urls']) == sorted(CODE_URLS) for i in (0, 1))
    assert len([w for w in run.warnings if 'could not be read' in w]) == 1, run.warnings
