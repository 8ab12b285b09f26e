"""Several sites in one process (SimulatorFleet, ``--sites N``) and the public control surface
(``/_sim/secrets``, ``/_sim/activity``, ``/_sim/site``, triggers, start-up switches, passwords)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import creatio_simulator as cs  # noqa: E402  pylint: disable=wrong-import-position
from sim_client import Client, add_cc, add_code, fetch, token_request  # noqa: E402  pylint: disable=wrong-import-position

# pylint: disable=redefined-outer-name


def test_five_sites_isolated():
    with cs.SimulatorFleet(5, site_path='/CreatioApp') as fleet:
        ports = {site.port for site in fleet}
        assert len(fleet) == 5 and len(ports) == 5
        described = fleet.describe()
        assert [d['url'] for d in described] == [f'http://127.0.0.1:{site.port}/CreatioApp' for site in fleet]
        assert all(d['identity_url'].endswith('/identity') and d['control'].endswith('/_sim') for d in described)
        # each site's control API changes that site only
        assert fetch(described[2]['control'] + '/config', 'POST', {'platform': 'netcore', 'language': 'de'}).status == 200
        clients = [Client(site) for site in fleet]
        try:
            for index, cl in enumerate(clients):
                assert cl.login().json()['Code'] == 0
                for number in range(index):
                    assert add_cc(cl, f'Site {index} app {number}')['success'] is True
            for index, site in enumerate(fleet):
                state = fetch(described[index]['control'] + '/state').json()
                assert len(state['clients']) == index + 1 and state['sessions'] == 1
                assert state['config']['platform'] == ('netcore' if index == 2 else 'netframework')
                assert all(c['name'].startswith(f'Site {index} ') for c in state['clients'][1:])
                log = fetch(described[index]['control'] + '/log').json()
                assert [e['endpoint'] for e in log] == ['Login'] + ['AddClient'] * index
                assert site.api_url == site.url + ('' if index == 2 else '/0')
            # sessions and tokens are per site: a cookie of site 0 means nothing on site 1
            clients[1].cookies = dict(clients[0].cookies)
            assert clients[1].odata().status == 401
            tok = token_request(fleet[3], {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID,
                                           'client_secret': cs.AUTOMATION_CLIENT_SECRET}).json()['access_token']
            clients[4].cookies = {}
            clients[4].bearer = tok
            assert clients[4].odata().status == 401
            fleet[0].configure(faults=[{'endpoint': '*', 'status': 500, 'count': None}])
            assert clients[1].login().json()['Code'] == 0
            fetch(described[3]['control'] + '/reset', 'POST')
            assert len(fleet[3].state()['clients']) == 1 and len(fleet[4].state()['clients']) == 5
        finally:
            for cl in clients:
                cl.close()


def test_fifty_sites_start_fast():
    start = time.monotonic()
    fleet = cs.SimulatorFleet(50).start()
    started = time.monotonic() - start
    try:
        assert len({site.port for site in fleet}) == 50
        assert fetch(fleet[49].control_url + '/state').status == 200
    finally:
        fleet.stop()
    assert started < 3, f'50 sites took {started:.2f} s to start'
    assert time.monotonic() - start < 6


def test_cli_sites_port_file(tmp_path):
    port_file = tmp_path / 'sites.json'
    cmd = [sys.executable, os.path.join(HERE, 'creatio_simulator.py'), '--sites', '3', '--port-file', str(port_file),
           '--platform', 'netcore', '--creatio-version', '8.1', '--language', 'de', '--site-path', '/App']
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        sites = json.loads(port_file.read_text())
        assert len(sites) == 3 and all(set(s) == {'url', 'identity_url', 'control'} for s in sites)
        for site in sites:
            config = fetch(site['control'] + '/config').json()
            assert (config['platform'], config['creatio_version'], config['language']) == ('netcore', '8.1', 'de')
            assert fetch(site['control'] + '/site').json() == site
        fetch(sites[0]['control'] + '/config', 'POST', {'language': 'en'})
        assert fetch(sites[1]['control'] + '/config').json()['language'] == 'de'
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and not port_file.exists()
    assert out.count('Creatio simulator listening on') == 3 and 'Platform: netcore' in out


# ---------------------------------------------------------------- control surface

@pytest.fixture
def sim():
    simulator = cs.Simulator(passwords={'Supervisor': 'S3cret"pw', 'Viewer': 'v'})
    simulator.start()
    yield simulator
    simulator.stop()


def test_passwords_survive_reset(sim):
    cl = Client(sim)
    assert cl.login('Supervisor', 'Supervisor').json()['Code'] == 1
    assert cl.login('Supervisor', 'S3cret"pw').json()['Code'] == 0
    sim.reset()
    assert cl.login('Viewer', 'v').json()['Code'] == 0 and cl.login('Viewer', 'Viewer').json()['Code'] == 1
    cl.close()
    assert cs.USERS[0]['password'] == 'Supervisor'  # the module's seed is untouched


def test_issued_secrets(sim):
    cl = Client(sim)
    cl.login('Supervisor', 'S3cret"pw')
    created = add_code(cl)
    tok = token_request(sim, {'grant_type': 'client_credentials', 'client_id': cs.AUTOMATION_CLIENT_ID,
                              'client_secret': cs.AUTOMATION_CLIENT_SECRET}).json()['access_token']
    issued = fetch(sim.control_url + '/secrets').json()
    assert issued == sim.issued_secrets()
    assert issued['client_secrets'] == {cs.AUTOMATION_CLIENT_ID: cs.AUTOMATION_CLIENT_SECRET, created['clientId']: created['clientSecret']}
    assert issued['sessions'] == [{'aspxauth': cl.cookies['.ASPXAUTH'], 'csrf': cl.cookies['BPMCSRF']}]
    assert issued['tokens'] == [tok]
    dump = json.dumps(sim.state()) + json.dumps(sim.log())
    assert created['clientSecret'] not in dump and tok not in dump and cl.cookies['.ASPXAUTH'] not in dump
    assert fetch(sim.control_url + '/secrets', 'POST').status == 405
    cl.close()


def test_triggers_and_activity(sim):
    cl = Client(sim)
    cl.login('Supervisor', 'S3cret"pw')
    sim.trigger('AddClient', lambda s: s.configure(oauth_feature=False), skip=1, label='feature off')
    assert add_code(cl)['success'] is True
    assert add_code(cl)['errorInfo']['message'] == cs.MSG_FEATURE_OFF
    assert sim.fired == ['feature off'] and sim.pending_triggers() == []
    with pytest.raises(ValueError):
        sim.trigger('Bogus', lambda s: None)
    sim.configure(oauth_feature=True, faults=[{'endpoint': 'OData', 'delay': 0.4, 'drop': True}])
    worker = threading.Thread(target=lambda: pytest.raises(OSError, Client(sim).odata))
    worker.start()
    deadline = time.monotonic() + 2
    while sim.in_flight() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    activity = fetch(sim.control_url + '/activity').json()
    assert activity['in_flight'] == 1 and activity['fired'] == ['feature off']
    sim.wait_settled(5)
    assert sim.in_flight() == 0
    worker.join(5)
    cl.close()


def test_start_up_switches_and_reset():
    with cs.Simulator(platform='netcore', creatio_version='8.1', language='de', database='mssql', csrf=False,
                      redirect_entity='hidden', identity_up=False) as site:
        config = site.state()['config']
        site.configure(platform='netframework', language='en', identity_up=True)
        site.reset()
        assert site.state()['config'] == config
        assert (config['platform'], config['creatio_version'], config['language'], config['database'], config['csrf'],
                config['redirect_entity'], config['identity_up']) == ('netcore', '8.1', 'de', 'mssql', False, 'hidden', False)
    for bad in ({'platform': 'mono'}, {'creatio_version': '8.2'}, {'language': 'fr'}, {'database': 'oracle'},
                {'redirect_entity': 'maybe'}, {'sysadminunit_status': 200}, {'identity_refuses': 'yes'},
                {'redirect_entity_name': 'SysAdminUnit'}, {'bogus': 1}):
        with pytest.raises(ValueError):
            cs.Simulator(**bad)
    assert cs.Simulator().state()['config'] == cs.DEFAULT_CONFIG
