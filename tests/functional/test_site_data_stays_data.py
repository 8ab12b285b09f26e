# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Site data never becomes a template (issue 20, security item 1): an integration a site
administrator named "{{ lookup('ansible.builtin.pipe', ...) }}" is exported by creatio.oauth.export
and applied to other sites with -e @file (the bootstrap playbook, in check mode and for real) and as
host_vars (the sites playbook). Ansible 2.19 trusts both as templates: the command would run on the
controller before any request. Nothing runs, and the literal name arrives at the other sites.

Also the drift report of such sites: no command runs, no markup gets through, and the report's
files are private."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

import yaml

from helpers import POWERBI_USER_ID, DirectSession, server_client  # pylint: disable=import-error
from test_export_round_trip import PASSWORD, _import_simulator, inventory  # pylint: disable=import-error


def hostile(marker):
    """A template that leaves a file behind when Ansible renders it (no space: it fits in a URL's path too)."""
    return "{{lookup('ansible.builtin.pipe','touch${IFS}%s')}}" % marker


def make_by_hand(sim, name, application_url, redirect_url=None):
    session = DirectSession(sim, user=('Supervisor', PASSWORD))
    request = {'name': name, 'applicationUrl': application_url}
    if redirect_url:
        request.update(grantType='authorization_code', redirectUrl=redirect_url)
    else:
        request.update(grantType='client_credentials', systemUserId=POWERBI_USER_ID)
    session.call('AddClient', 'addClientRequest', request)
    sim.clear_log()


def markers_left(tmp_path):
    return sorted(str(p) for p in tmp_path.rglob('pwned-*'))


def export_file(run_playbook, tmp_path, sim, host):
    out = tmp_path / ('export-%s' % host)
    result = run_playbook('creatio.oauth.export', inventory=inventory(tmp_path, {host: sim}),
                          extra_vars={'creatio_export_dir': str(out)}, env={'CREATIO_URL': None})
    assert result.rc == 0, result
    return out / ('%s.yml' % host), result


def test_a_hostile_name_exported_and_applied_stays_a_name(run_playbook, tmp_path):
    fleet = _import_simulator().SimulatorFleet(3, passwords={'Supervisor': PASSWORD}).start()
    try:
        site_a, site_b, site_c = fleet[0], fleet[1], fleet[2]
        name = hostile(tmp_path / 'pwned-name')
        make_by_hand(site_a, name, 'https://app.example.com')
        path, exported = export_file(run_playbook, tmp_path, site_a, 'site-a')
        assert markers_left(tmp_path) == []
        assert name in [item['name'] for item in yaml.safe_load(path.read_text().replace('!unsafe', ''))['creatio_integrations']]

        connection = {'CREATIO_URL': site_b.url, 'CREATIO_USERNAME': 'Supervisor', 'CREATIO_PASSWORD': PASSWORD}
        checked = run_playbook('creatio.oauth.bootstrap', extra_args=['-e', '@%s' % path], check=True, env=connection)
        assert markers_left(tmp_path) == []
        assert checked.rc == 0, checked
        assert [e for e in site_b.log() if e['kind'] == 'write'] == []  # check mode

        applied = run_playbook('creatio.oauth.bootstrap', extra_args=['-e', '@%s' % path], env=connection)
        assert markers_left(tmp_path) == []
        assert applied.rc == 0, applied
        assert server_client(site_b, name)['applicationUrl'] == 'https://app.example.com'  # the literal name arrived

        # the same file as host_vars of an inventory host, with the sites playbook
        inventory_dir = tmp_path / 'inventory'
        (inventory_dir / 'host_vars').mkdir(parents=True)
        (inventory_dir / 'host_vars' / 'site-c.yml').write_text(path.read_text())
        (inventory_dir / 'hosts.yml').write_text(open(inventory(tmp_path, {'site-c': site_c})).read())
        hosts = run_playbook('creatio.oauth.sites', inventory=str(inventory_dir / 'hosts.yml'), env={'CREATIO_URL': None})
        assert markers_left(tmp_path) == []
        assert hosts.rc == 0, hosts
        assert server_client(site_c, name)['applicationUrl'] == 'https://app.example.com'

        # the drift report of a site holding it: nothing runs there either, and the name is text in both files
        drift = run_playbook('creatio.oauth.drift', inventory=str(inventory_dir / 'hosts.yml'),
                             extra_vars={'creatio_drift_dir': str(tmp_path / 'reports')}, env={'CREATIO_URL': None})
        assert markers_left(tmp_path) == []
        assert drift.rc == 0, drift
        report = json.loads((tmp_path / 'reports' / 'creatio-drift.json').read_text())
        assert report['sites'][0]['status'] == 'in line'
        assert {'__ansible_unsafe': name} in [cell['name'] for cell in report['sites'][0]['integrations']]

        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600  # it names a site's internals
        assert stat.S_IMODE(os.stat(str(path.parent)).st_mode) == 0o700  # made by the playbook
        assert 'written to %s' % path in exported.output  # the run says where the file went
    finally:
        fleet.stop()


def test_a_hostile_url_is_refused_before_any_request_and_never_rendered(run_playbook, tmp_path):
    """A URL with braces cannot be applied (the role refuses it, naming it): it must not run before that."""
    fleet = _import_simulator().SimulatorFleet(2, passwords={'Supervisor': PASSWORD}).start()
    try:
        site_a, site_b = fleet[0], fleet[1]
        url = 'https://app.example.com/' + hostile(tmp_path / 'pwned-url')
        make_by_hand(site_a, 'Portal', url, redirect_url='https://cb.example.com/' + hostile(tmp_path / 'pwned-redirect'))
        path, _exported = export_file(run_playbook, tmp_path, site_a, 'site-a')
        connection = {'CREATIO_URL': site_b.url, 'CREATIO_USERNAME': 'Supervisor', 'CREATIO_PASSWORD': PASSWORD}
        for check in (True, False):
            applied = run_playbook('creatio.oauth.bootstrap', extra_args=['-e', '@%s' % path], check=check, env=connection)
            assert markers_left(tmp_path) == []
            assert applied.rc != 0, applied
            assert url in applied.output  # the literal URL, named in the refusal
            assert [e for e in site_b.log() if e['kind'] == 'write'] == []
    finally:
        fleet.stop()
