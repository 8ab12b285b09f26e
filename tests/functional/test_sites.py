# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many sites from one inventory (issue 15): the creatio.oauth.sites and creatio.oauth.drift
playbooks over the example inventory of examples/sites (its vault-encrypted credentials included),
pointed at five simulated sites (SimulatorFleet), with forks 5.

Assertions are on every site's request log and state, on the published results per host, and on
the report files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import shutil
import socket
import sys

import pytest
import yaml

from helpers import ROOT, DirectSession, endpoints, server_client  # pylint: disable=import-error


def name_hash(name):
    return hashlib.sha256(name).hexdigest()[:12]


EXAMPLE = os.path.join(ROOT, 'examples', 'sites')
VAULT_PASSWORD_FILE = os.path.join(EXAMPLE, 'example-vault-password.txt')
SITES = ['dev-emea', 'test-emea', 'test-us', 'prod-emea', 'prod-us']  # the example inventory's hosts
ROLE = 'creatio.oauth.integrations : '
RECORD = ROLE + 'Record the result of the run'
SUMMARY = ROLE + 'Summary'
SITES_PLAYBOOK = """
- name: The collection's sites playbook
  ansible.builtin.import_playbook: creatio.oauth.sites
"""
DRIFT_PLAYBOOK = """
- name: The collection's drift playbook
  ansible.builtin.import_playbook: creatio.oauth.drift
"""
FORKS = 5


def _import_simulator():
    simulator_dir = os.path.join(ROOT, 'tests', 'simulator')
    if simulator_dir not in sys.path:
        sys.path.insert(0, simulator_dir)
    import creatio_simulator  # pylint: disable=import-error
    return creatio_simulator


@pytest.fixture
def fleet():
    """Five independent simulated sites, one port each, named after the example inventory's hosts."""
    sites = _import_simulator().SimulatorFleet(len(SITES)).start()
    try:
        yield dict(zip(SITES, sites))
    finally:
        sites.stop()


def closed_port():
    """A loopback port nothing listens on (a site that does not answer)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def site_inventory(tmp_path, fleet, offline=None):
    """The example inventory as it is (groups, group_vars, vault files), but for the host_vars that
    point each site at its simulator; ``offline`` adds a prod site at a port that does not answer."""
    inventory = tmp_path / 'inventory'
    if not inventory.exists():
        shutil.copytree(os.path.join(EXAMPLE, 'inventory'), str(inventory))
    for name, sim in fleet.items():
        (inventory / 'host_vars' / (name + '.yml')).write_text(u'---\ncreatio_url: %s\n' % sim.url)
    hosts = yaml.safe_load((inventory / 'hosts.yml').read_text())
    prod = hosts['all']['children']['creatio_sites']['children']['prod']['hosts']
    if offline:
        prod['offline'] = None
        (inventory / 'host_vars' / 'offline.yml').write_text(u'---\ncreatio_url: http://127.0.0.1:%d\n' % offline)
    else:
        prod.pop('offline', None)
    (inventory / 'hosts.yml').write_text(yaml.safe_dump(hosts))
    return str(inventory)


def run_env(extra=None):
    env = {'ANSIBLE_FORKS': FORKS, 'ANSIBLE_VAULT_PASSWORD_FILE': VAULT_PASSWORD_FILE,
           # the connection comes from the inventory only: the harness's CREATIO_* must not help
           'CREATIO_URL': None, 'CREATIO_USERNAME': None, 'CREATIO_PASSWORD': None}
    env.update(extra or {})
    return env


def declared():
    with open(os.path.join(EXAMPLE, 'inventory', 'group_vars', 'all', 'integrations.yml')) as handle:
        return yaml.safe_load(handle)['creatio_integrations']


def by_kind(sim):
    counts = {}
    for entry in sim.log():
        counts[entry['kind']] = counts.get(entry['kind'], 0) + 1
    return counts


def clear_logs(fleet):
    for sim in fleet.values():
        sim.clear_log()


def published(result, host):
    return result.task_result(RECORD, host=host)['ansible_facts']['creatio_integrations_result']


def test_sites_converge_rerun_writes_nothing_and_the_drift_report_shows_only_the_change(
        fleet, run_playbook, tmp_path, cache_path):
    names = [item['name'] for item in declared()]
    assert len(names) == 3

    # --- every site converges, forks 5, with the credentials from the example vault files
    inventory = site_inventory(tmp_path, fleet)
    first = run_playbook(SITES_PLAYBOOK, inventory=inventory, env=run_env())
    assert first.rc == 0, first
    assert sorted(first.recap) == sorted(SITES), first.recap
    for site, sim in fleet.items():
        server = dict((c['name'], c) for c in sim.state()['clients'] if not c.get('seeded'))
        assert sorted(server) == sorted(names), (site, server)
        assert server['Webhooks']['applicationUrl'] == 'https://hooks.example.com'
        assert [r['redirectUrl'] for r in server['Creatio.ai for Outlook']['redirectUrls']] == [
            'https://addin.example.com/outlook/callback']
        assert by_kind(sim).get('login') == 1 and [e['endpoint'] for e in sim.log()].count('AddClient') == 3, site
        assert [e['action'] for e in published(first, site)] == ['created'] * 3
        # a secrets folder per site (the names are the same on every site)
        folder = os.path.join(first.home, 'creatio-secrets', site)
        # names with spaces are not plain: their file names carry a hash of the name (issue 20)
        assert sorted(os.listdir(folder)) == ['Creatio.ai_for_Outlook+%s.json' % name_hash(b'Creatio.ai for Outlook'),
                                              'Power_BI_Connector+%s.json' % name_hash(b'Power BI Connector'), 'Webhooks.json']
        with open(os.path.join(folder, 'Webhooks.json')) as handle:
            assert json.load(handle)['client_id'] == server['Webhooks']['clientId']
    # one file per site in the facts cache, no single document
    assert len(os.listdir(os.path.join(os.path.dirname(cache_path), 'facts.sites'))) == 2 * len(SITES)  # + their locks
    assert not os.path.exists(cache_path)

    # --- a re-run writes nothing, on any site: no login (the sessions are reused), one read of the
    # integrations each, one of the Outlook add-in's redirect URI rows
    clear_logs(fleet)
    rerun = run_playbook(SITES_PLAYBOOK, inventory=inventory, env=run_env())
    assert rerun.rc == 0, rerun
    assert all(counts['changed'] == 0 for counts in rerun.recap.values()), rerun.recap
    for site, sim in fleet.items():
        assert endpoints(sim.log()) == ['OData', 'RedirectUrlEntity'], (site, sim.log())
        assert [e['action'] for e in published(rerun, site)] == ['unchanged'] * 3

    # --- one site changed by hand behind the collection's back; one more site that does not answer
    changed = fleet['test-us']
    DirectSession(changed).call('UpdateClient', 'updateClientRequest', {
        'clientId': server_client(changed, 'Webhooks')['clientId'], 'applicationUrl': 'https://hooks.changed.example.com'})
    states_before = dict((site, sim.state()['clients']) for site, sim in fleet.items())
    clear_logs(fleet)
    inventory = site_inventory(tmp_path, fleet, offline=closed_port())
    reports = tmp_path / 'reports'
    reports.mkdir()
    drift = run_playbook(DRIFT_PLAYBOOK, inventory=inventory, extra_vars={'creatio_drift_dir': str(reports)},
                         env=run_env({'CREATIO_REQUEST_TIMEOUT': 5}))
    assert drift.rc == 0, drift
    assert drift.recap['offline']['rescued'] == 1 and drift.recap['offline']['failed'] == 0, drift.recap
    for site, sim in fleet.items():  # check mode: read, never written
        assert by_kind(sim).get('write', 0) == 0, (site, sim.log())
        assert sim.state()['clients'] == states_before[site]

    report = json.loads((reports / 'creatio-drift.json').read_text())
    assert report['summary']['sites'] == 6 and report['summary']['sites_in_line'] == 4
    assert report['summary']['sites_with_drift'] == 1 and report['summary']['sites_unknown'] == 1
    cells = dict(((row['site'], cell['name']), cell) for row in report['sites'] for cell in row['integrations'])
    assert len(cells) == 6 * 3 and report['integrations'] == names
    not_in_line = dict((key, cell) for key, cell in cells.items() if cell['state'] != 'in line')
    assert sorted(not_in_line) == sorted([('test-us', 'Webhooks')] + [('offline', n) for n in names]), not_in_line
    assert not_in_line[('test-us', 'Webhooks')]['state'] == 'would update'
    assert not_in_line[('test-us', 'Webhooks')]['fields'] == ['application_url']
    assert not_in_line[('test-us', 'Webhooks')]['operations'] == [
        "update integration Webhooks: application_url 'https://hooks.changed.example.com' -> 'https://hooks.example.com'"]
    for name in names:
        assert not_in_line[('offline', name)]['state'] == 'unknown' and not_in_line[('offline', name)]['reason']
    offline_row = [row for row in report['sites'] if row['site'] == 'offline'][0]
    assert offline_row['status'] == 'unknown' and offline_row['reason'], offline_row

    markdown = (reports / 'creatio-drift.md').read_text()
    assert '**4 of 6 site(s) in line, 1 with drift, 1 unknown.**' in markdown
    assert '| test-us | drift | in line | would update (application_url) | in line |' in markdown
    assert '| offline | unknown | unknown | unknown | unknown |' in markdown
    details = markdown.split('## Details', 1)[1].strip().splitlines()
    assert details[0].startswith('- offline: unknown: not attempted: Login to http://127.0.0.1:') and len(details) == 3, details
    assert details[1:] == ['- test-us / Webhooks: would update (application_url)',
                           "  - update integration Webhooks: application_url 'https://hooks.changed.example.com' -> "
                           "'https://hooks.example.com'"]
    shown = drift.task_result('Show the drift')['msg']
    assert shown[0] == '4 of 6 site(s) in line, 1 with drift, 1 unknown'
    assert 'test-us: Webhooks: would update (application_url)' in shown
    # never a secret in the reports or the output: the client secrets and sessions every site issued
    secrets = []
    for sim in fleet.values():
        issued = sim.issued_secrets()
        secrets += list(issued.get('client_secrets', {}).values())
        secrets += [session.get(key) for session in issued.get('sessions', []) for key in ('aspxauth', 'csrf')]
    secrets = [s for s in secrets if s and len(s) >= 8]
    assert len(secrets) >= 5 * 4, secrets  # 3 integrations + the seeded client per site, and the sessions
    texts = markdown + (reports / 'creatio-drift.json').read_text() + drift.stdout + drift.stderr
    assert [s for s in secrets if s in texts] == []

    # --- drift repair: an integration deleted by hand on prod-us, and test-us as changed above. Its old
    # secret file is kept aside (not overwritten), the integration is made again with a new secret.
    gone = fleet['prod-us']
    old_id = server_client(gone, 'Webhooks')['clientId']
    DirectSession(gone).call('DeleteClient', 'deleteClientRequest', {'clientId': old_id})
    clear_logs(fleet)
    inventory = site_inventory(tmp_path, fleet)
    repair = run_playbook(SITES_PLAYBOOK, inventory=inventory, env=run_env())
    assert repair.rc == 0, repair
    assert server_client(changed, 'Webhooks')['applicationUrl'] == 'https://hooks.example.com'
    new_id = server_client(gone, 'Webhooks')['clientId']
    assert new_id != old_id
    folder = os.path.join(repair.home, 'creatio-secrets', 'prod-us')
    with open(os.path.join(folder, 'Webhooks.json')) as handle:
        assert json.load(handle)['client_id'] == new_id
    with open(os.path.join(folder, 'Webhooks.json.' + old_id)) as handle:
        assert json.load(handle)['client_id'] == old_id  # the old one, kept
    summary = repair.task_result(SUMMARY, host='prod-us')['msg']
    assert any(line.startswith('Kept the secret file of the earlier Webhooks (client id %s' % old_id) for line in summary), summary
    for site in SITES:
        writes = [e['endpoint'] for e in fleet[site].log() if e['kind'] == 'write']
        expected = {'test-us': ['UpdateClient'], 'prod-us': ['AddClient']}.get(site, [])
        assert writes == expected, (site, writes)

    # --- and now every site is in line
    final = run_playbook(DRIFT_PLAYBOOK, inventory=inventory, extra_vars={'creatio_drift_dir': str(reports),
                                                                          'creatio_drift_fail': True}, env=run_env())
    assert final.rc == 0, final
    report = json.loads((reports / 'creatio-drift.json').read_text())
    assert report['summary']['sites_in_line'] == report['summary']['sites'] == 5
