# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Export of a site as code (issue 15 item 3): the creatio.oauth.export playbook writes the
integrations of a site in the role's creatio_integrations shape; applied to an empty site with the
role they converge there with no further edit, and the export of that site equals the first one.

Site A's integrations are made by hand, through the simulator's real API (as a person on Creatio's
page would), never by the collection; on both platforms of the simulator (API under /0, and at the
site root on .NET Core), with and without authorization code integrations (their redirect URIs
are read from the site's redirect-URI entity)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

import pytest
import yaml

from helpers import POWERBI_USER_ID, ROOT, WEBHOOK_USER_ID, DirectSession  # pylint: disable=import-error

EXPORT_PLAYBOOK = """
- name: The collection's export playbook
  ansible.builtin.import_playbook: creatio.oauth.export
"""
SITES_PLAYBOOK = """
- name: The collection's sites playbook
  ansible.builtin.import_playbook: creatio.oauth.sites
"""


def _import_simulator():
    simulator_dir = os.path.join(ROOT, 'tests', 'simulator')
    if simulator_dir not in sys.path:
        sys.path.insert(0, simulator_dir)
    import creatio_simulator  # pylint: disable=import-error
    return creatio_simulator


# Not the seeded Supervisor/Supervisor: Ansible masks a no_log value (the password) wherever it
# appears in a result, and the user Supervisor is the system user of the site's seeded client.
PASSWORD = 'Export-Sup3rvisor-pw'


def inventory(tmp_path, sites):
    """Sites as inventory hosts (connection local, credentials in the inventory)."""
    hosts = dict((name, {'creatio_url': sim.url}) for name, sim in sites.items())
    document = {'all': {'children': {'creatio_sites': {'hosts': hosts, 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
        'creatio_username': 'Supervisor', 'creatio_password': PASSWORD,
        'creatio_integrations_secrets_dir': '~/creatio-secrets/{{ inventory_hostname }}'}}}}}
    path = tmp_path / ('inventory-%s.yml' % '-'.join(sorted(sites)))
    path.write_text(yaml.safe_dump(document))
    return str(path)


def make_by_hand(sim, with_authorization_code):
    """Integrations made on Creatio's page: two presets' look-alikes, an inactive one, a custom one."""
    session = DirectSession(sim, user=('Supervisor', PASSWORD))

    def add(request):
        return session.call('AddClient', 'addClientRequest', request)['clientId']
    add({'name': 'Power BI Connector', 'applicationUrl': 'https://app.powerbi.com', 'grantType': 'client_credentials',
         'systemUserId': POWERBI_USER_ID})
    clio = add({'name': 'Clio', 'applicationUrl': 'https://app.clio.com', 'grantType': 'client_credentials',
                'systemUserId': WEBHOOK_USER_ID})
    session.call('UpdateClient', 'updateClientRequest', {'clientId': clio, 'isActive': False})
    add({'name': 'Order webhooks', 'applicationUrl': 'https://hooks.example.com', 'grantType': 'client_credentials',
         'systemUserId': WEBHOOK_USER_ID})
    if with_authorization_code:
        add({'name': 'Outlook add-in', 'applicationUrl': 'https://outlook.office.com', 'grantType': 'authorization_code',
             'redirectUrl': 'https://addin.example.com/cb'})
        portal = add({'name': 'Portal', 'applicationUrl': 'https://portal.example.com', 'grantType': 'authorization_code'})
        session.call('AddRedirectUrls', 'redirectUrlsRequest', {
            'clientId': portal, 'redirectUrls': ['https://portal.example.com/a', 'https://portal.example.com/b']})
    sim.clear_log()


def export(run_playbook, tmp_path, sites, name):
    out = tmp_path / ('export-%s' % name)
    out.mkdir()
    result = run_playbook(EXPORT_PLAYBOOK, inventory=inventory(tmp_path, {name: sites[name]}),
                          extra_vars={'creatio_export_dir': str(out)}, env={'CREATIO_URL': None})
    assert result.rc == 0, result
    text = (out / ('%s.yml' % name)).read_text()
    return yaml.safe_load(text)['creatio_integrations'], text, result


@pytest.mark.parametrize('platform', ['netframework', 'netcore'])
@pytest.mark.parametrize('kinds', ['client credentials integrations', 'with an authorization code integration'])
def test_export_apply_export_round_trip(run_playbook, tmp_path, platform, kinds):
    fleet = _import_simulator().SimulatorFleet(2, platform=platform, passwords={'Supervisor': PASSWORD}).start()
    try:
        sites = {'site-a': fleet[0], 'site-b': fleet[1]}
        make_by_hand(sites['site-a'], with_authorization_code=kinds != 'client credentials integrations')
        exported_a, text_a, result_a = export(run_playbook, tmp_path, sites, 'site-a')
        assert [w for r in result_a.results for w in r['result'].get('warnings') or []] == []
        assert [e['kind'] for e in sites['site-a'].log() if e['kind'] == 'write'] == []  # an export writes nothing
        # never a client id or a secret in the file
        for client in sites['site-a'].state()['clients']:
            assert client['clientId'] not in text_a
        for secret in sites['site-a'].issued_secrets()['client_secrets'].values():
            assert secret not in text_a
        by_name = dict((item['name'], item) for item in exported_a)
        # system users by name (SysAdminUnit can be read here): their ids differ from site to site on real sites
        assert by_name['Power BI Connector'] == {'name': 'Power BI Connector', 'preset': 'powerbi', 'system_user': 'PowerBIUser'}
        assert by_name['Clio'] == {'name': 'Clio', 'preset': 'clio', 'system_user': 'WebhookUser', 'active': False}
        assert by_name['Order webhooks'] == {'name': 'Order webhooks', 'preset': 'custom', 'grant_type': 'client_credentials',
                                             'application_url': 'https://hooks.example.com', 'system_user': 'WebhookUser'}
        assert by_name['Ansible automation']['preset'] == 'custom'  # the seeded client is part of the site too
        # a user that shares its name with a role (Supervisor: also a SysAdminUnit of type 2) is still one user
        assert by_name['Ansible automation']['system_user'] == 'Supervisor'
        if kinds != 'client credentials integrations':
            assert by_name['Outlook add-in'] == {'name': 'Outlook add-in', 'preset': 'outlook_addin',
                                                 'redirect_urls': ['https://addin.example.com/cb']}
            assert by_name['Portal']['redirect_urls'] == ['https://portal.example.com/a', 'https://portal.example.com/b']

        # apply the exported list to the empty site B with the role, as it is
        applied = run_playbook(SITES_PLAYBOOK, inventory=inventory(tmp_path, {'site-b': sites['site-b']}),
                               extra_vars={'creatio_integrations': exported_a}, env={'CREATIO_URL': None})
        assert applied.rc == 0, applied
        server_b = dict((c['name'], c) for c in sites['site-b'].state()['clients'])
        assert sorted(server_b) == sorted(by_name)
        assert server_b['Clio']['isActive'] is False and server_b['Order webhooks']['applicationUrl'] == 'https://hooks.example.com'

        # it converged: a second application writes nothing
        sites['site-b'].clear_log()
        again = run_playbook(SITES_PLAYBOOK, inventory=inventory(tmp_path, {'site-b': sites['site-b']}),
                             extra_vars={'creatio_integrations': exported_a}, env={'CREATIO_URL': None})
        assert again.rc == 0 and [e for e in sites['site-b'].log() if e['kind'] == 'write'] == [], again

        exported_b, _text_b, _result_b = export(run_playbook, tmp_path, sites, 'site-b')
        assert exported_b == exported_a
    finally:
        fleet.stop()
