# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every answer true (issue 21, items 3, 7, 8): what the export, the sites playbook and the drift
report say rests on what the site holds, read in the same run.

- An 8.1 site's redirect URI survives export -> apply to another 8.1 site.
- Redirect URIs the site does not let the collection read are never "in line" (empty cache, and a
  warm cache that cannot see a URI added by hand).
- A second integration of a declared name, made by hand, makes the cell "unknown" (warm and empty
  cache) and the run says so; the warm-cache check still reads OData once.

Assertions are on the simulators' state and logs, the published results and the report files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil

from helpers import POWERBI_USER_ID, WEBHOOK_USER_ID, DirectSession, endpoints, server_client  # pylint: disable=import-error
from test_export_round_trip import PASSWORD, _import_simulator, export, inventory  # pylint: disable=import-error

ROLE = 'creatio.oauth.integrations : '
RECORD = ROLE + 'Record the result of the run'
SUMMARY = ROLE + 'Summary'
CALLBACK = 'https://portal.example.com/cb'
PORTAL = {'name': 'Portal', 'preset': 'custom', 'grant_type': 'authorization_code',
          'application_url': 'https://portal.example.com', 'redirect_urls': [CALLBACK]}
WEBHOOKS = {'name': 'Webhooks', 'preset': 'webhooks', 'application_url': 'https://hooks.example.com',
            'system_user_id': WEBHOOK_USER_ID}


def published(result, host):
    return result.task_result(RECORD, host=host)['ansible_facts']['creatio_integrations_result']


def drift(run_playbook, tmp_path, sites, declared):
    reports = tmp_path / 'reports'
    result = run_playbook('creatio.oauth.drift', inventory=inventory(tmp_path, sites),
                          extra_vars={'creatio_drift_dir': str(reports), 'creatio_integrations': declared},
                          env={'CREATIO_URL': None})
    assert result.rc == 0, result
    report = json.loads((reports / 'creatio-drift.json').read_text())
    cells = dict(((row['site'], cell['name']), cell) for row in report['sites'] for cell in row['integrations'])
    return result, report, cells


def apply(run_playbook, tmp_path, sites, declared):
    result = run_playbook('creatio.oauth.sites', inventory=inventory(tmp_path, sites),
                          extra_vars={'creatio_integrations': declared}, env={'CREATIO_URL': None})
    assert result.rc == 0, result
    return result


def forget_everything(cache_path):
    """An empty facts cache: a controller that never ran against the site."""
    shutil.rmtree(os.path.dirname(cache_path), ignore_errors=True)


def test_an_8_1_site_exported_and_applied_to_another_8_1_site_keeps_its_redirect_uri(run_playbook, tmp_path):
    fleet = _import_simulator().SimulatorFleet(2, creatio_version='8.1', passwords={'Supervisor': PASSWORD}).start()
    try:
        sites = {'site-a': fleet[0], 'site-b': fleet[1]}
        DirectSession(sites['site-a'], user=('Supervisor', PASSWORD)).call('AddClient', 'addClientRequest', {
            'name': 'Portal', 'applicationUrl': 'https://portal.example.com', 'systemUserId': POWERBI_USER_ID,
            'redirectUrl': CALLBACK})
        exported, _text, _result = export(run_playbook, tmp_path, sites, 'site-a')
        by_name = dict((item['name'], item) for item in exported)
        assert by_name['Portal'] == {'name': 'Portal', 'preset': 'custom', 'grant_type': 'authorization_code',
                                     'application_url': 'https://portal.example.com', 'system_user': 'PowerBIUser',
                                     'redirect_urls': [CALLBACK]}

        apply(run_playbook, tmp_path, {'site-b': sites['site-b']}, exported)
        portal = server_client(sites['site-b'], 'Portal')
        assert [row['redirectUrl'] for row in portal['redirectUrls']] == [CALLBACK]
        assert portal['systemUserId'].lower() == POWERBI_USER_ID.lower()

        # as on site A, and it converged: again writes nothing, and site B exports the same list
        sites['site-b'].clear_log()
        apply(run_playbook, tmp_path, {'site-b': sites['site-b']}, exported)
        assert [e for e in sites['site-b'].log() if e['kind'] == 'write'] == []
        assert export(run_playbook, tmp_path, sites, 'site-b')[0] == exported
    finally:
        fleet.stop()


def test_redirect_uris_the_site_does_not_list_are_never_in_line(run_playbook, tmp_path, cache_path):
    fleet = _import_simulator().SimulatorFleet(1, redirect_entity='hidden', passwords={'Supervisor': PASSWORD}).start()
    try:
        sim = fleet[0]
        sites = {'site-a': sim}
        created = apply(run_playbook, tmp_path, sites, [PORTAL])
        assert [e['action'] for e in published(created, 'site-a')] == ['created']

        # warm cache; a rogue redirect URI added by hand, which this site does not let the collection see
        client_id = server_client(sim, 'Portal')['clientId']
        DirectSession(sim, user=('Supervisor', PASSWORD)).call('AddRedirectUrls', 'redirectUrlsRequest', {
            'clientId': client_id, 'redirectUrls': ['https://rogue.example.com/steal']})
        sim.clear_log()
        result, report, cells = drift(run_playbook, tmp_path, sites, [PORTAL])
        cell = cells[('site-a', 'Portal')]
        assert cell['state'] == 'unknown', cell
        assert 'redirect_urls' in cell['reason'] and 'does not let the collection read' in cell['reason'], cell
        assert report['sites'][0]['status'] == 'unknown' and report['summary']['sites_in_line'] == 0
        entry = published(result, 'site-a')[0]
        assert entry['not_compared'] == ['redirect_urls'] and 'application_url' in entry['compared'], entry
        summary = result.task_result(SUMMARY, host='site-a')['msg']
        assert any('not compared with the site: redirect_urls' in line for line in summary), summary

        # empty cache, the authorization endpoint answering: it proves the declared URI registered, but it cannot
        # see the rogue one: still not compared, so unknown
        forget_everything(cache_path)
        result, report, cells = drift(run_playbook, tmp_path, sites, [PORTAL])
        cell = cells[('site-a', 'Portal')]
        assert cell['state'] == 'unknown' and 'redirect_urls' in cell['reason'], cell
        assert report['summary']['sites_in_line'] == 0

        # empty cache and no authorization endpoint: the role says "not confirmed"; the report says the same
        sim.configure(authorize_endpoint='off')
        forget_everything(cache_path)
        result, report, cells = drift(run_playbook, tmp_path, sites, [PORTAL])
        summary = result.task_result(SUMMARY, host='site-a')['msg']
        assert any('redirect URIs not confirmed' in line for line in summary), summary
        cell = cells[('site-a', 'Portal')]
        assert cell['state'] == 'unknown' and cell['reason'].startswith('redirect URIs not confirmed: %s' % CALLBACK), cell
        assert report['summary']['sites_in_line'] == 0
        assert [e for e in sim.log() if e['kind'] == 'write'] == []
    finally:
        fleet.stop()


def test_a_second_integration_of_a_declared_name_is_never_in_line(run_playbook, tmp_path, cache_path):
    fleet = _import_simulator().SimulatorFleet(1, passwords={'Supervisor': PASSWORD}).start()
    try:
        sim = fleet[0]
        sites = {'site-a': sim}
        apply(run_playbook, tmp_path, sites, [WEBHOOKS])
        ours = server_client(sim, 'Webhooks')['clientId']
        # made by hand in Creatio: same name, and it looks the same
        theirs = DirectSession(sim, user=('Supervisor', PASSWORD)).call('AddClient', 'addClientRequest', {
            'name': 'Webhooks', 'applicationUrl': 'https://hooks.example.com', 'grantType': 'client_credentials',
            'systemUserId': WEBHOOK_USER_ID})['clientId']
        both = ', '.join(sorted([ours, theirs]))

        # warm cache, a real run: it says so
        sim.clear_log()
        rerun = apply(run_playbook, tmp_path, sites, [WEBHOOKS])
        entry = published(rerun, 'site-a')[0]
        assert entry['same_name'] == sorted([ours, theirs]) and entry['client_id'] == ours, entry
        summary = rerun.task_result(SUMMARY, host='site-a')['msg']
        assert any("Creatio has 2 integrations named 'Webhooks' (client ids %s)" % both in line for line in summary), summary
        assert [e for e in sim.log() if e['kind'] == 'write'] == []

        for cache in ('warm', 'empty'):
            if cache == 'empty':
                forget_everything(cache_path)
            sim.clear_log()
            result, report, cells = drift(run_playbook, tmp_path, sites, [WEBHOOKS])
            cell = cells[('site-a', 'Webhooks')]
            assert cell['state'] == 'unknown', (cache, cell)
            assert "Creatio has 2 integrations named 'Webhooks' (client ids %s)" % both in cell['reason'], (cache, cell)
            assert report['summary']['sites_unknown'] == 1
            # the one OData read of the batch found it out: no further read for the name
            assert endpoints(sim.log()).count('OData') == 1, (cache, sim.log())
            assert [e for e in sim.log() if e['kind'] == 'write'] == []
        markdown = (tmp_path / 'reports' / 'creatio-drift.md').read_text()
        assert "site-a: unknown: Creatio has 2 integrations named 'Webhooks'" in markdown
    finally:
        fleet.stop()
