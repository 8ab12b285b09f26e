# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX-style jobs: the credential type's own injectors, ansible-runner, a fresh container per job.

The shipped credential type (extensions/awx/creatio_credential_type.yml) is checked against the
rules AWX applies when it is saved (awx/main/fields.py: CredentialTypeInputField,
CredentialTypeInjectorField, CredentialInputField), and each job's environment is rendered from its
``injectors`` exactly as AWX's ``CredentialType.inject_credential`` renders them, never from a
hand-written copy: Jinja2 in an immutable sandbox; a string field left blank is undefined (renders
empty); a boolean field the credential does not set is false; every ``file`` template is written to
a 0600 file in the job's ``env/`` folder and its path is ``tower.filename.<label>``.

Each job gets a fresh private data dir (project/, inventory/hosts, env/envvars, env/settings with
process isolation off, env/extravars), a fresh HOME and a fresh, empty facts cache, as AWX's
containers do. Jobs:

- the bootstrap playbook twice against the simulator: the first job creates the example's
  integrations, the second adopts them through OData and writes nothing;
- the bootstrap playbook against the simulator over TLS with a certificate from a private CA: with
  the CA in the credential the job trusts the site through the injected file; without it the job
  fails before any request reaches Creatio, with a clear TLS message, no traceback and no secret;
  with "skip TLS certificate verification" it works and warns.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import glob
import importlib.util
import json
import os
import re
import stat
import sys
import tempfile
import urllib.parse

import ansible_runner
import jinja2.sandbox
import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

from helpers import BIN_DIR, ROOT  # pylint: disable=import-error
from helpers import (  # pylint: disable=import-error
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET, cache_clients, count, read_json, server_clients, writes)
from pki import private_ca  # pylint: disable=import-error

AWX_DIR = os.path.join(ROOT, 'extensions', 'awx')
CREDENTIAL_TYPE = os.path.join(AWX_DIR, 'creatio_credential_type.yml')
IMPORT_FILE = os.path.join(AWX_DIR, 'creatio_credential_type.import.json')
EXAMPLE_VARS = os.path.join(ROOT, 'examples', 'integrations.yml')
BOOTSTRAP = os.path.join(ROOT, 'playbooks', 'bootstrap.yml')
# The fields of the credential type and the connection option each one feeds.
FIELD_OPTIONS = {
    'creatio_url': 'creatio_url',
    'creatio_username': 'creatio_username',
    'creatio_password': 'creatio_password',
    'creatio_client_id': 'creatio_client_id',
    'creatio_client_secret': 'creatio_client_secret',
    'creatio_identity_url': 'creatio_identity_url',
    'creatio_ca_cert': 'ca_path',
    'creatio_skip_tls_verify': 'validate_certs',
}
SECRET_FIELDS = ('creatio_password', 'creatio_client_secret')
# The options of awx.awx.credential_type that the source file may use as its top-level keys.
CREDENTIAL_TYPE_MODULE_OPTIONS = ('name', 'description', 'kind', 'inputs', 'injectors')


# --- AWX's rules, as in awx/main/fields.py and awx/main/models/credential/__init__.py -------------

FIELD_KEYS = ('id', 'type', 'format', 'choices', 'label', 'help_text', 'multiline', 'secret', 'ask_at_runtime', 'default')
STRING_ONLY_KEYS = ('choices', 'multiline', 'format', 'secret')
ID_PATTERN = re.compile(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$')
FILE_LABEL_PATTERN = re.compile(r'^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$')
ENV_BLOCKLIST = ('VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID', 'INVENTORY_UPDATE_ID',
                 'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES', 'CALLBACK_QUEUE',
                 'CALLBACK_CONNECTION', 'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS', 'AWX_HOST',
                 'PROJECT_REVISION', 'SUPERVISOR_CONFIG_PATH')


def awx_type_errors(credential_type):
    """What AWX refuses when this credential type is saved ([] when it accepts it)."""
    errors = []
    inputs, injectors = credential_type.get('inputs', {}), credential_type.get('injectors', {})
    if credential_type.get('kind') not in ('cloud', 'net'):
        errors.append('custom credential types are of kind cloud or net, not %r' % credential_type.get('kind'))
    if set(inputs) - {'fields', 'required'}:
        errors.append('inputs: unknown keys %s' % sorted(set(inputs) - {'fields', 'required'}))
    ids = []
    for field in inputs.get('fields', []):
        unknown = set(field) - set(FIELD_KEYS)
        if unknown:
            errors.append('%s: keys AWX does not allow: %s' % (field.get('id'), sorted(unknown)))
        if 'id' not in field or 'label' not in field:
            errors.append('a field needs id and label: %r' % field)
            continue
        if not ID_PATTERN.match(field['id']) or field['id'] == 'tower' or field['id'] in ids:
            errors.append('%s: invalid, reserved or repeated id' % field['id'])
        ids.append(field['id'])
        kind = field.get('type', 'string')
        if kind not in ('string', 'boolean'):
            errors.append('%s: type %r' % (field['id'], kind))
        if 'format' in field and field['format'] not in ('ssh_private_key', 'url'):
            errors.append('%s: format %r' % (field['id'], field['format']))
        for key in STRING_ONLY_KEYS:
            if key in field and kind != 'string':
                errors.append('%s not allowed for %s type (%s)' % (key, kind, field['id']))
        if 'default' in field and not isinstance(field['default'], {'string': str, 'boolean': bool}.get(kind, type(None))):
            errors.append('%s: default %r is not a %s' % (field['id'], field['default'], kind))
        for key in ('label', 'help_text'):
            if key in field and not isinstance(field[key], str):
                errors.append('%s: %s is not a string' % (field['id'], key))
    for required in inputs.get('required', []):
        if required not in ids:
            errors.append('required field %r is not defined' % required)

    if set(injectors) - {'file', 'env', 'extra_vars'}:
        errors.append('injectors: unknown keys %s' % sorted(set(injectors) - {'file', 'env', 'extra_vars'}))
    files = list(injectors.get('file', {}))
    for label in files:
        if not FILE_LABEL_PATTERN.match(label):
            errors.append('file injector %r: not template or template.<name>' % label)
    if 'template' in files and len(files) > 1:
        errors.append('Must use multi-file syntax when injecting multiple files')
    for name, value in injectors.get('env', {}).items():
        if not ID_PATTERN.match(name) or name.startswith('ANSIBLE_') or name in ENV_BLOCKLIST:
            errors.append('env %s is not allowed' % name)
        if not isinstance(value, str) or not all(ord(c) < 128 for c in value):
            errors.append('env %s: the template must be an ASCII string' % name)
    for name in injectors.get('extra_vars', {}):
        if not ID_PATTERN.match(name):
            errors.append('extra_vars %s is not a variable name' % name)

    # the templates may only use defined fields (rendered with StrictUndefined, every field 'EXAMPLE')
    class ExplodingNamespace(object):
        def __str__(self):
            raise UndefinedError('Must define unnamed file injector in order to reference `tower.filename`.')

    class TowerNamespace(object):
        def __init__(self):
            self.filename = ExplodingNamespace()

        def __str__(self):
            raise UndefinedError('Cannot directly reference reserved `tower` namespace container.')

    namespace = dict((field_id, 'EXAMPLE') for field_id in ids)
    namespace['tower'] = TowerNamespace()
    if 'template' in files:
        namespace['tower'].filename = 'EXAMPLE_FILENAME'
    else:
        for label in files:
            setattr(namespace['tower'].filename, label.split('.', 1)[1], 'EXAMPLE_FILENAME')
    strict = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, templates in injectors.items():
        for key, template in templates.items():
            try:
                strict.from_string(template).render(namespace)
            except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
                errors.append('%s %s: %s' % (kind, key, exc))
    return errors


def awx_input_errors(credential_type, inputs):
    """What AWX refuses when a credential with these inputs is saved ([] when it accepts them)."""
    errors = []
    fields = dict((f['id'], f) for f in credential_type['inputs']['fields'])
    for name, value in inputs.items():
        field = fields.get(name)
        if field is None:
            errors.append('%s is not a field' % name)
            continue
        if field.get('type', 'string') == 'boolean':
            if not isinstance(value, bool):
                errors.append('%s: %r is not of type boolean' % (name, value))
            continue
        if not isinstance(value, str):
            errors.append('%s: %r is not of type string' % (name, value))
            continue
        if field.get('format') == 'url':
            parsed = urllib.parse.urlparse(value)
            if not parsed.scheme or not parsed.netloc:
                errors.append('%s: Invalid URL %r' % (name, value))
    for name in credential_type['inputs'].get('required', []):
        if not inputs.get(name):
            errors.append('%s: required' % name)
    return errors


def awx_inject(credential_type, inputs, private_data_dir):
    """The environment AWX gives a job with a credential of this type and these inputs.

    As CredentialType.inject_credential: file templates are written to 0600 files in
    ``<private_data_dir>/env`` and named by ``tower.filename`` in the env templates."""
    class TowerNamespace(object):
        pass

    tower = TowerNamespace()
    namespace = {'tower': tower}
    for name, value in inputs.items():
        if isinstance(value, bool):  # AWX: type(value) is bool
            namespace[name] = value
        elif len(value):
            namespace[name] = value
    for field in credential_type['inputs']['fields']:
        if field.get('type') == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = False  # "default missing boolean fields to False", whatever "default" says
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment()
    env_dir = os.path.join(private_data_dir, 'env')
    os.makedirs(env_dir, exist_ok=True)
    for label, template in credential_type['injectors'].get('file', {}).items():
        data = sandbox.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w') as out:
            out.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if '.' not in label:
            tower.filename = path
        else:
            if not hasattr(tower, 'filename'):
                tower.filename = TowerNamespace()
            setattr(tower.filename, label.split('.', 1)[1], path)
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in credential_type['injectors'].get('env', {}).items())


# --- the shipped files ---------------------------------------------------------------------------

def load_credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


def connection_env_fallbacks(collections_path):
    """{option: [env var]} of the connection options, read from the collection's own argspec."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    from ansible_collections.creatio.oauth.plugins.module_utils._connection import CONNECTION_ARGSPEC  # pylint: disable=import-error
    return dict((option, list(spec['fallback'][1])) for option, spec in CONNECTION_ARGSPEC.items() if 'fallback' in spec)


def test_credential_type_is_accepted_by_awx():
    credential_type = load_credential_type()
    assert set(credential_type) == set(CREDENTIAL_TYPE_MODULE_OPTIONS)
    assert credential_type['kind'] == 'cloud'
    assert awx_type_errors(credential_type) == []

    fields = dict((f['id'], f) for f in credential_type['inputs']['fields'])
    assert list(fields) == list(FIELD_OPTIONS)
    for field_id, field in fields.items():
        assert field.get('label'), field
        assert bool(field.get('secret')) == (field_id in SECRET_FIELDS), field
    assert credential_type['inputs']['required'] == ['creatio_url']
    assert fields['creatio_url']['format'] == 'url'
    # format: url only where the field is required: AWX refuses an empty string in a url field
    assert [f for f in fields if fields[f].get('format') == 'url'] == ['creatio_url']
    assert fields['creatio_ca_cert']['multiline'] is True and fields['creatio_ca_cert']['type'] == 'string'
    assert fields['creatio_skip_tls_verify']['type'] == 'boolean'
    assert awx_input_errors(credential_type, {'creatio_url': 'https://x.creatio.com', 'creatio_identity_url': '',
                                              'creatio_ca_cert': '', 'creatio_skip_tls_verify': False}) == []
    assert awx_input_errors(credential_type, {'creatio_url': 'x.creatio.com'})  # no scheme: refused, as by AWX

    # the checker is not vacuous: what AWX would refuse, it refuses too
    broken = copy.deepcopy(credential_type)
    broken['inputs']['fields'][-1]['secret'] = False  # 'secret' on a boolean field
    broken['injectors']['env']['ANSIBLE_X'] = '{{ creatio_url }}'
    broken['injectors']['env']['CREATIO_Y'] = '{{ tower.filename.nothing }}'
    broken['injectors']['env']['CREATIO_Z'] = '{{ no_such_field }}'
    errors = awx_type_errors(broken)
    assert len(errors) == 4, errors
    blank_url = copy.deepcopy(credential_type)
    blank_url['inputs']['fields'][5]['format'] = 'url'
    assert awx_input_errors(blank_url, {'creatio_url': 'https://x.creatio.com', 'creatio_identity_url': ''})


def test_injectors_feed_the_connection_options_and_verify_by_default(collections_path, tmp_path):
    credential_type = load_credential_type()
    fallbacks = connection_env_fallbacks(collections_path)
    injected = credential_type['injectors']['env']
    # one CREATIO_* variable per field, the one the modules read for that field's option
    assert sorted(injected) == sorted(fallbacks[option][0] for option in FIELD_OPTIONS.values())
    for field_id, option in FIELD_OPTIONS.items():
        if field_id == option:
            assert injected[fallbacks[option][0]] == '{{ %s }}' % field_id
    assert credential_type['injectors']['file'] == {'template.creatio_ca_cert': '{{ creatio_ca_cert }}'}

    # only the URL given (as a credential made through the API or before these fields existed):
    # certificates are verified, no CA file is named, blank fields are empty
    pdd = str(tmp_path / 'job-plain')
    env = awx_inject(credential_type, {'creatio_url': 'https://x.creatio.com', 'creatio_password': 'p"w\'{d}'}, pdd)
    assert env['CREATIO_URL'] == 'https://x.creatio.com'
    assert env['CREATIO_PASSWORD'] == 'p"w\'{d}'
    assert env['CREATIO_USERNAME'] == ''  # blank: empty, which the modules treat as not given
    assert env['CREATIO_VALIDATE_CERTS'] == 'true' and boolean(env['CREATIO_VALIDATE_CERTS']) is True
    assert env['CREATIO_CA_PATH'] == ''
    written = os.listdir(os.path.join(pdd, 'env'))
    assert len(written) == 1  # AWX writes the (empty) CA file anyway; nothing names it
    with open(os.path.join(pdd, 'env', written[0])) as handle:
        assert handle.read() == ''

    # a CA given: CREATIO_CA_PATH names the 0600 file in the job's env/ folder that holds it
    pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    pdd = str(tmp_path / 'job-ca')
    env = awx_inject(credential_type, {'creatio_url': 'https://x', 'creatio_ca_cert': pem, 'creatio_skip_tls_verify': False}, pdd)
    assert os.path.dirname(env['CREATIO_CA_PATH']) == os.path.join(pdd, 'env')
    assert stat.S_IMODE(os.stat(env['CREATIO_CA_PATH']).st_mode) == 0o600
    with open(env['CREATIO_CA_PATH']) as handle:
        assert handle.read() == pem
    assert env['CREATIO_VALIDATE_CERTS'] == 'true'

    # "skip TLS certificate verification" checked: validate_certs false
    env = awx_inject(credential_type, {'creatio_url': 'https://x', 'creatio_skip_tls_verify': True}, str(tmp_path / 'job-skip'))
    assert env['CREATIO_VALIDATE_CERTS'] == 'false' and boolean(env['CREATIO_VALIDATE_CERTS']) is False


def _load_ci_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, '.ci', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_file_is_the_credential_type_in_awx_export_format():
    with open(IMPORT_FILE) as handle:
        document = json.load(handle)
    credential_type = load_credential_type()
    assert list(document) == ['credential_types'] and len(document['credential_types']) == 1
    asset = document['credential_types'][0]
    assert asset['natural_key'] == {'name': credential_type['name'], 'kind': credential_type['kind'], 'type': 'credential_type'}
    assert dict((k, v) for k, v in asset.items() if k != 'natural_key') == credential_type
    # and it is exactly what the generator writes (so `make lint` and this test agree)
    forms = _load_ci_module('awx_forms')
    with open(IMPORT_FILE) as handle:
        assert handle.read() == forms.render(forms.import_document())


# --- jobs ----------------------------------------------------------------------------------------

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


def _clean_environment(monkeypatch):
    """Only the job's own environment counts: none of the caller's ANSIBLE_*, CREATIO_*, proxy or CA variables."""
    for name in list(os.environ):
        if name.startswith(('CREATIO_', 'ANSIBLE_')) or name.lower().endswith('_proxy') or \
                name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR'):
            monkeypatch.delenv(name)


def run_awx_job(job_root, ident, collections_path, credential_inputs, extravars):
    """One job as AWX runs it: a fresh private data dir, HOME and facts cache, and the credential's
    environment rendered by AWX's rules into that private data dir. Returns (runner, pdd, cache, env)."""
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
    credential_type = load_credential_type()
    assert awx_input_errors(credential_type, credential_inputs) == []
    credential_env = awx_inject(credential_type, credential_inputs, pdd)
    # The credential's environment goes in memory, as AWX passes it to ansible-runner.
    runner = ansible_runner.run(private_data_dir=pdd, playbook='site.yml', ident=ident, envvars=credential_env,
                                quiet=True, timeout=600)
    return runner, pdd, cache, credential_env


def _no_secret_left_behind(pdd, stdout, events, forbidden):
    """No secret in the job's output, events or files. ansible-runner records the environment it was
    given in artifacts/<ident>/command (mode 0600), as in AWX's private data dir: that is the job's
    input, not its output, and the only allowed place."""
    for secret in forbidden:
        assert secret not in stdout
    for path, text in _all_text(pdd).items():
        if path.startswith('artifacts' + os.sep) and path.endswith(os.sep + 'command'):
            continue
        for secret in forbidden:
            assert secret not in text, 'a secret is in %s' % path
    dumped = json.dumps(list(events))
    assert not [s for s in forbidden if s in dumped]


def test_two_awx_jobs_fresh_containers_second_adopts_through_odata(simulator, collections_path, tmp_path, monkeypatch):
    assert os.path.exists(BOOTSTRAP), 'playbooks/bootstrap.yml is missing'
    _clean_environment(monkeypatch)

    # The credential: the seeded automation client (OAuth login); user name and password left blank.
    credential_inputs = {
        'creatio_url': simulator.url,
        'creatio_client_id': AUTOMATION_CLIENT_ID,
        'creatio_client_secret': AUTOMATION_CLIENT_SECRET,
        'creatio_identity_url': simulator.identity_url,
    }

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
    job1, pdd1, cache1, env1 = run_awx_job(str(tmp_path / 'jobs'), 'job1', collections_path, credential_inputs, extravars)
    assert env1['CREATIO_USERNAME'] == '' and env1['CREATIO_PASSWORD'] == '' and env1['CREATIO_CA_PATH'] == ''
    assert env1['CREATIO_VALIDATE_CERTS'] == 'true'
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
    job2, pdd2, cache2, _env2 = run_awx_job(str(tmp_path / 'jobs'), 'job2', collections_path, credential_inputs, extravars)
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
    forbidden = [AUTOMATION_CLIENT_SECRET] + new_secrets
    _no_secret_left_behind(pdd1, stdout1, job1.events, forbidden)
    _no_secret_left_behind(pdd2, stdout2, job2.events, forbidden)


def _simulator_module():
    sim_dir = os.path.join(ROOT, 'tests', 'simulator')
    if sim_dir not in sys.path:
        sys.path.insert(0, sim_dir)
    import creatio_simulator  # pylint: disable=import-error
    return creatio_simulator


def _failed_results(events):
    return [e['event_data'] for e in events if e['event'] == 'runner_on_failed' and not e['event_data'].get('ignore_errors')]


def test_awx_job_with_a_private_ca_over_tls(collections_path, tmp_path, monkeypatch):
    _clean_environment(monkeypatch)
    ca = private_ca(tmp_path)
    sim = _simulator_module().Simulator(host='127.0.0.1', port=0, tls_cert=ca.server_cert, tls_key=ca.server_key)
    sim.start()
    try:
        assert sim.url.startswith('https://127.0.0.1:')
        base_inputs = {
            'creatio_url': sim.url,
            'creatio_client_id': AUTOMATION_CLIENT_ID,
            'creatio_client_secret': AUTOMATION_CLIENT_SECRET,
            'creatio_identity_url': sim.identity_url,
        }
        extravars = _example_vars()
        present = [i['name'] for i in extravars['creatio_integrations'] if i.get('state', 'present') == 'present']
        extravars['creatio_integrations_secrets_dir'] = str(tmp_path / 'persistent' / 'secrets')
        jobs = str(tmp_path / 'jobs')

        # --- without the CA: refused before anything reaches Creatio, cleanly --------------------
        refused, pdd0, _cache0, env0 = run_awx_job(jobs, 'no-ca', collections_path, base_inputs, extravars)
        stdout0 = refused.stdout.read()
        assert env0['CREATIO_CA_PATH'] == '' and env0['CREATIO_VALIDATE_CERTS'] == 'true'
        assert refused.status == 'failed' and refused.rc != 0, stdout0
        assert sim.log() == [], 'a request reached Creatio over an unverified connection'
        assert 'TLS certificate verification failed' in stdout0, stdout0
        assert 'ca_path' in stdout0 and 'validate_certs' in stdout0  # the message says what to do
        # a clean failure: the module's own message, no Python traceback (ansible-core 2.19+ marks every
        # failed result with exception '(traceback unavailable)'; a real one would start 'Traceback')
        assert 'Traceback' not in stdout0 and 'Traceback' not in json.dumps(list(refused.events))
        failed = _failed_results(refused.events)
        assert [r['task'] for r in failed] == ['Check that every integration was applied and verified'], failed
        assert 'TLS certificate verification failed' in failed[0]['res']['msg']
        _no_secret_left_behind(pdd0, stdout0, refused.events, [AUTOMATION_CLIENT_SECRET])
        assert server_clients(sim).keys().isdisjoint(present)

        # --- with the CA in the credential: the job trusts the site through the injected file ----
        inputs = dict(base_inputs, creatio_ca_cert=ca.ca_pem)
        trusted, pdd1, cache1, env1 = run_awx_job(jobs, 'with-ca', collections_path, inputs, extravars)
        stdout1 = trusted.stdout.read()
        assert trusted.status == 'successful' and trusted.rc == 0, stdout1
        ca_file = env1['CREATIO_CA_PATH']
        assert ca_file.startswith(os.path.join(pdd1, 'env') + os.sep) and ca_file != ca.ca_path
        with open(ca_file) as handle:
            assert handle.read() == ca.ca_pem
        assert env1['CREATIO_VALIDATE_CERTS'] == 'true'
        log1 = sim.log()
        assert count(log1, 'Token') >= 1 and count(log1, 'AddClient') == len(present), [e['endpoint'] for e in log1]
        assert sorted(cache_clients(cache1, sim)) == sorted(present)
        assert 'validate_certs is false' not in stdout1  # verified, not merely tolerated
        _no_secret_left_behind(pdd1, stdout1, trusted.events, [AUTOMATION_CLIENT_SECRET])

        # --- "skip TLS certificate verification": works, and says it is unsafe -------------------
        sim.clear_log()
        inputs = dict(base_inputs, creatio_skip_tls_verify=True)
        skipped, pdd2, _cache2, env2 = run_awx_job(jobs, 'skip-verify', collections_path, inputs, extravars)
        stdout2 = skipped.stdout.read()
        assert env2['CREATIO_VALIDATE_CERTS'] == 'false' and env2['CREATIO_CA_PATH'] == ''
        assert skipped.status == 'successful' and skipped.rc == 0, stdout2
        assert writes(sim.log()) == []  # adopted through OData, as any second job
        assert 'validate_certs is false' in json.dumps(list(skipped.events)), stdout2
        _no_secret_left_behind(pdd2, stdout2, skipped.events, [AUTOMATION_CLIENT_SECRET])
    finally:
        sim.stop()
