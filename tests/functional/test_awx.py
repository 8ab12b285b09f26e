# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX-style jobs: the credential type's own injectors, ansible-runner, a fresh container per job.

The environment of each job is rendered, as AWX renders it, from the ``injectors`` of
extensions/awx/creatio_credential_type.yml (Jinja2 in a sandbox, fields left blank render as empty
strings), never from a hand-written copy. Each job gets a fresh private data dir (project/,
inventory/hosts, env/envvars, env/settings with process isolation off, env/extravars), a fresh HOME
and a fresh, empty facts cache, as AWX's containers do. The bootstrap playbook runs twice against
the simulator: the first job creates the example's integrations, the second adopts them through
OData and writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import stat
import sys

import ansible_runner
import jinja2.sandbox
import yaml

from helpers import BIN_DIR, ROOT  # pylint: disable=import-error
from helpers import (  # pylint: disable=import-error
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET, cache_clients, count, read_json, server_clients, writes)

CREDENTIAL_TYPE = os.path.join(ROOT, 'extensions', 'awx', 'creatio_credential_type.yml')
EXAMPLE_VARS = os.path.join(ROOT, 'examples', 'integrations.yml')
BOOTSTRAP = os.path.join(ROOT, 'playbooks', 'bootstrap.yml')
# The login fields of the credential type and the connection options they feed (option == field id).
LOGIN_FIELDS = ('creatio_url', 'creatio_username', 'creatio_password', 'creatio_client_id', 'creatio_client_secret',
                'creatio_identity_url')
SECRET_FIELDS = ('creatio_password', 'creatio_client_secret')


def load_credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


def render_injectors(credential_type, inputs):
    """The environment AWX injects for a credential with these inputs: each ``injectors.env`` value
    is a Jinja2 template rendered in a sandbox with the credential's inputs as its namespace."""
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment()
    namespace = {}
    for field in credential_type['inputs']['fields']:
        if field.get('type') == 'boolean':
            namespace[field['id']] = False  # AWX's default for a missing boolean
    namespace.update(inputs)
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in credential_type['injectors']['env'].items())


def connection_env_fallbacks(collections_path):
    """{option: [env var]} of the connection options, read from the collection's own argspec."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    from ansible_collections.creatio.oauth.plugins.module_utils._connection import CONNECTION_ARGSPEC  # pylint: disable=import-error
    return dict((option, list(spec['fallback'][1])) for option, spec in CONNECTION_ARGSPEC.items() if 'fallback' in spec)


def test_credential_type_is_an_awx_credential_type_for_the_connection_options(collections_path):
    credential_type = load_credential_type()
    assert set(credential_type) == {'name', 'description', 'kind', 'inputs', 'injectors'}
    assert credential_type['kind'] == 'cloud'
    fields = dict((f['id'], f) for f in credential_type['inputs']['fields'])
    assert list(fields) == list(LOGIN_FIELDS)
    for field_id, field in fields.items():
        assert field['type'] == 'string', field
        assert field.get('label'), field
        assert set(field) <= {'id', 'type', 'label', 'help_text', 'secret'}, field
        assert bool(field.get('secret')) == (field_id in SECRET_FIELDS), field
    assert credential_type['inputs']['required'] == ['creatio_url']
    assert list(credential_type['injectors']) == ['env']  # no extra_vars, no files

    fallbacks = connection_env_fallbacks(collections_path)
    injected = credential_type['injectors']['env']
    # exactly one CREATIO_* variable per login field, the one the modules read for that option
    assert sorted(injected) == sorted(fallbacks[field_id][0] for field_id in LOGIN_FIELDS)
    for field_id in LOGIN_FIELDS:
        assert injected[fallbacks[field_id][0]] == '{{ %s }}' % field_id

    rendered = render_injectors(credential_type, {'creatio_url': 'https://x.creatio.com', 'creatio_password': 'p"w\'{d}'})
    assert rendered['CREATIO_URL'] == 'https://x.creatio.com'
    assert rendered['CREATIO_PASSWORD'] == 'p"w\'{d}'
    assert rendered['CREATIO_USERNAME'] == ''  # a blank field: empty, which the modules treat as not given


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)


def _example_vars():
    with open(EXAMPLE_VARS) as handle:
        return yaml.safe_load(handle)


def _all_text(folder):
    """{relative path: text} of every file under ``folder``."""
    found = {}
    for path in glob.glob(os.path.join(folder, '**', '*'), recursive=True):
        if os.path.isfile(path):
            with open(path, 'rb') as handle:
                found[os.path.relpath(path, folder)] = handle.read().decode('utf-8', 'replace')
    return found


def _stats(events):
    stats = [e['event_data'] for e in events if e['event'] == 'playbook_on_stats']
    assert len(stats) == 1, 'no playbook_on_stats event'
    return stats[0]


def run_awx_job(job_root, ident, collections_path, credential_env, extravars):
    """One job as AWX runs it: a fresh private data dir, HOME and facts cache. Returns (runner, pdd, cache)."""
    pdd = os.path.join(job_root, ident)
    home = os.path.join(pdd, 'home')
    cache = os.path.join(pdd, 'cache', 'creatio', 'facts.json')
    os.makedirs(os.path.join(home, '.ansible', 'tmp'))
    os.makedirs(os.path.dirname(os.path.dirname(cache)))  # cache/ exists and is empty; the module makes cache/creatio
    # AWX projects hold their own playbook; this one runs the collection's bootstrap playbook by name.
    _write(os.path.join(pdd, 'project', 'site.yml'), '---\n- name: Creatio integrations\n'
                                                     '  ansible.builtin.import_playbook: creatio.oauth.bootstrap\n')
    _write(os.path.join(pdd, 'inventory', 'hosts'),
           'localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    _write(os.path.join(pdd, 'env', 'settings'), yaml.safe_dump({'process_isolation': False, 'suppress_ansible_output': True}))
    _write(os.path.join(pdd, 'env', 'extravars'), yaml.safe_dump(extravars))
    _write(os.path.join(pdd, 'env', 'envvars'), yaml.safe_dump({
        'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''),
        'HOME': home,
        'ANSIBLE_HOME': os.path.join(home, '.ansible'),
        'ANSIBLE_LOCAL_TEMP': os.path.join(home, '.ansible', 'tmp'),
        'ANSIBLE_REMOTE_TEMP': os.path.join(home, '.ansible', 'tmp'),
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_NOCOLOR': '1',
        'CREATIO_CACHE_PATH': cache,
        'PYTHONDONTWRITEBYTECODE': '1',
    }))
    assert not os.path.exists(cache)
    # The credential's environment goes in memory, as AWX passes it to ansible-runner.
    runner = ansible_runner.run(private_data_dir=pdd, playbook='site.yml', ident=ident, envvars=credential_env,
                                quiet=True, timeout=600)
    return runner, pdd, cache


def test_two_awx_jobs_fresh_containers_second_adopts_through_odata(simulator, collections_path, tmp_path, monkeypatch):
    assert os.path.exists(BOOTSTRAP), 'playbooks/bootstrap.yml is missing'
    for name in list(os.environ):
        if name.startswith(('CREATIO_', 'ANSIBLE_')):
            monkeypatch.delenv(name)  # only the job's own environment counts

    # The credential: the seeded automation client (OAuth login); user name and password left blank.
    credential_type = load_credential_type()
    credential_env = render_injectors(credential_type, {
        'creatio_url': simulator.url,
        'creatio_client_id': AUTOMATION_CLIENT_ID,
        'creatio_client_secret': AUTOMATION_CLIENT_SECRET,
        'creatio_identity_url': simulator.identity_url,
    })
    assert credential_env['CREATIO_USERNAME'] == '' and credential_env['CREATIO_PASSWORD'] == ''

    # The job template's extra variables: the example, with the secrets folder on "persistent storage"
    # (one folder outside the two jobs' private data dirs).
    extravars = _example_vars()
    declared = extravars['creatio_integrations']
    present = [i['name'] for i in declared if i.get('state', 'present') == 'present']
    assert present, 'the example declares no integration'
    secrets_dir = str(tmp_path / 'persistent' / 'secrets')
    extravars['creatio_integrations_secrets_dir'] = secrets_dir
    seeded = set(server_clients(simulator))

    # --- job 1: creates every integration of the example ----------------------------------------
    job1, pdd1, cache1 = run_awx_job(str(tmp_path / 'jobs'), 'job1', collections_path, credential_env, extravars)
    stdout1 = job1.stdout.read()
    assert job1.status == 'successful' and job1.rc == 0, stdout1
    log1 = simulator.log()
    assert count(log1, 'AddClient') == len(present), stdout1
    assert set(e['auth'] for e in log1 if e['kind'] == 'write') == {'bearer'}  # the credential's OAuth client
    clients = server_clients(simulator)
    assert set(clients) == seeded | set(present)
    assert all(len(clients[name]) == 1 for name in present)
    ids_after_job1 = dict((name, clients[name][0]['clientId']) for name in present)
    assert sorted(cache_clients(cache1, simulator)) == sorted(present)
    assert _stats(job1.events)['changed'].get('localhost', 0) >= 1

    new_secrets = []
    for name in present:
        files = [p for p in glob.glob(os.path.join(secrets_dir, '*.json')) if read_json(p)['client_id'] == ids_after_job1[name]]
        assert len(files) == 1, 'no secrets file for %r' % name
        assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
        new_secrets.append(read_json(files[0])['client_secret'])
    assert all(len(s) >= 8 for s in new_secrets)
    secret_files_after_job1 = sorted(os.listdir(secrets_dir))

    # --- job 2: a new container, an empty cache: adoption through OData, no write -------------------
    simulator.clear_log()
    job2, pdd2, cache2 = run_awx_job(str(tmp_path / 'jobs'), 'job2', collections_path, credential_env, extravars)
    stdout2 = job2.stdout.read()
    assert job2.status == 'successful' and job2.rc == 0, stdout2
    log2 = simulator.log()
    assert writes(log2) == [], [e['endpoint'] for e in log2]
    assert count(log2, 'OData') >= 1  # found by name in Creatio, not in a cache
    assert count(log2, 'Login') == 0  # the credential's OAuth client, never a password
    stats2 = _stats(job2.events)
    assert stats2['changed'].get('localhost', 0) == 0, stdout2
    assert stats2['failures'] == {} and stats2['dark'] == {}
    assert not [e for e in job2.events if e['event'] == 'runner_on_ok' and e['event_data'].get('res', {}).get('changed')]
    clients = server_clients(simulator)
    assert dict((name, [c['clientId'] for c in clients[name]]) for name in present) == \
        dict((name, [ids_after_job1[name]]) for name in present)
    assert sorted(cache_clients(cache2, simulator)) == sorted(present)  # the empty cache was rebuilt
    assert sorted(os.listdir(secrets_dir)) == secret_files_after_job1

    # --- no secret in what the jobs left behind ---------------------------------------------------
    # ansible-runner records the environment it was given in artifacts/<ident>/command (mode 0600), as
    # in AWX's private data dir: that is the job's input, not its output, and the only allowed place.
    forbidden = [AUTOMATION_CLIENT_SECRET] + new_secrets
    for pdd, stdout in ((pdd1, stdout1), (pdd2, stdout2)):
        for secret in forbidden:
            assert secret not in stdout
        for path, text in _all_text(pdd).items():
            if path.startswith('artifacts' + os.sep) and path.endswith(os.sep + 'command'):
                continue
            for secret in forbidden:
                assert secret not in text, 'a secret is in %s' % path
    for job in (job1, job2):
        events = json.dumps(list(job.events))
        assert not [s for s in forbidden if s in events]
