# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: the built tarball, its installed copy, the execution environment
files and the rendered documentation.

- ``ansible-galaxy collection build``: the tarball holds what users need and none of the checkout's
  test output, venvs or caches; its size is recorded (printed, and written to packaging.json in
  the test's temp dir).
- The tarball installed into an empty collections path (offline, no dependencies) runs the bootstrap
  playbook with the example variables shipped inside it, against the simulator.
- The project files (LICENSE with the full GPL-3.0 text, code of conduct, contributing guide, security
  policy, changelog) are in the tarball.
- ``ansible-builder create`` renders extensions/ee/execution-environment.yml, and
  ``ansible-builder introspect`` finds the collection's own requirements through meta/execution-environment.yml.
- The ansible-core versions claimed (meta/runtime.yml), tested (the Makefile's MATRIX) and installed in
  the execution environment agree (.ci/versions.py).
- ``ansible-doc`` renders every module and the role; every EXAMPLES block is YAML that passes
  ``ansible-playbook --syntax-check`` and sets connection options only through
  ``module_defaults`` for ``group/creatio.oauth.creatio``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import glob
import importlib.util
import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

from helpers import BIN_DIR, ROOT  # pylint: disable=import-error
from helpers import POWERBI_USER_ID, server_clients, writes  # pylint: disable=import-error

NAMESPACE, NAME = 'creatio', 'oauth'
GROUP = 'group/creatio.oauth.creatio'
CONNECTION_OPTIONS = ('creatio_url', 'creatio_username', 'creatio_password', 'creatio_client_id', 'creatio_client_secret',
                      'creatio_identity_url', 'validate_certs', 'ca_path', 'request_timeout', 'cache_path', 'reuse_session')
MODULES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                 if not os.path.basename(p).startswith('_'))
# Modules that run on the controller only and talk to no site: not in the action group, no connection options.
NOT_CONNECTED = ('creatio_drift_report',)
CONNECTED = [m for m in MODULES if m not in NOT_CONNECTED]
# what must be in the tarball / what must never be
REQUIRED_MEMBERS = ['MANIFEST.json', 'FILES.json', 'README.md', 'meta/runtime.yml', 'meta/execution-environment.yml',
                    'requirements.txt', 'bindep.txt', 'playbooks/bootstrap.yml', 'playbooks/sites.yml', 'playbooks/drift.yml',
                    'playbooks/export.yml', 'examples/sites/inventory/hosts.yml', 'roles/integrations/tasks/main.yml',
                    'roles/integrations/meta/argument_specs.yml', 'examples/integrations.yml',
                    'extensions/awx/creatio_credential_type.yml', 'extensions/ee/execution-environment.yml',
                    'docs/docsite/extra-docs.yml', 'plugins/doc_fragments/connection.py',
                    'extensions/awx/creatio_credential_type.import.json'] + \
                   ['plugins/modules/%s.py' % m for m in MODULES]
# the project files: at the root of the tarball, as in the repository
PROJECT_FILES = ('LICENSE', 'CODE_OF_CONDUCT.md', 'CONTRIBUTING.md', 'SECURITY.md', 'CHANGELOG.rst',
                 'changelogs/changelog.yaml')
FORBIDDEN_PARTS = ('.git', '.venv', '.venvs', 'venv', '__pycache__', '.pytest_cache', 'build', 'dist', '.ansible',
                   'collections')
FORBIDDEN_PREFIXES = ('tests/output', 'tests/integration/inventory', 'docs/_build')
ALLOWED_DOT_FILES = ('.ansible-lint',)


def _run(args, env=None, cwd=None, timeout=300):
    run_env = dict(os.environ)
    run_env.update({'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''), 'ANSIBLE_NOCOLOR': '1',
                    'PYTHONDONTWRITEBYTECODE': '1'})
    run_env.update(env or {})
    proc = subprocess.run(args, cwd=cwd, env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
    return proc


def _galaxy_version():
    with open(os.path.join(ROOT, 'galaxy.yml')) as handle:
        return yaml.safe_load(handle)['version']


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    """``ansible-galaxy collection build`` of the checkout, into a temp dir."""
    dist = str(tmp_path_factory.mktemp('dist'))
    proc = _run([os.path.join(BIN_DIR, 'ansible-galaxy'), 'collection', 'build', '--output-path', dist, ROOT])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = os.path.join(dist, '%s-%s-%s.tar.gz' % (NAMESPACE, NAME, _galaxy_version()))
    assert os.path.isfile(path), os.listdir(dist)
    return path


@pytest.fixture(scope='module')
def installed(tarball, tmp_path_factory):
    """The tarball installed into an empty collections path (offline, no dependencies); returns that path."""
    base = str(tmp_path_factory.mktemp('installed'))
    assert os.listdir(base) == []
    proc = _run([os.path.join(BIN_DIR, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps',
                 '-p', base, tarball], env={'ANSIBLE_COLLECTIONS_PATH': base, 'HOME': base})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.listdir(os.path.join(base, 'ansible_collections')) == [NAMESPACE]
    return base


def test_tarball_contents_and_size(tarball, tmp_path, capsys, record_property):
    with tarfile.open(tarball) as archive:
        members = [m.name for m in archive.getmembers()]
        manifest = json.load(archive.extractfile('MANIFEST.json'))
    missing = [m for m in REQUIRED_MEMBERS + list(PROJECT_FILES) if m not in members]
    assert not missing, missing
    assert [m for m in members if m.startswith('roles/integrations/')]
    bad = [m for m in members
           if set(m.split('/')) & set(FORBIDDEN_PARTS) or m.startswith(FORBIDDEN_PREFIXES) or m.endswith(('.pyc', '.tar.gz'))
           or [part for part in m.split('/') if part.startswith('.') and part not in ALLOWED_DOT_FILES]]
    assert not bad, bad
    assert manifest['collection_info']['namespace'] == NAMESPACE and manifest['collection_info']['name'] == NAME
    assert manifest['collection_info']['version'] == _galaxy_version()

    size = os.path.getsize(tarball)
    figures = {'tarball': os.path.basename(tarball), 'bytes': size, 'kib': round(size / 1024.0, 1), 'files': len(members)}
    with open(str(tmp_path / 'packaging.json'), 'w') as handle:
        json.dump(figures, handle)
    record_property('tarball_bytes', size)
    with capsys.disabled():
        print('\n[packaging] %(tarball)s: %(bytes)d bytes (%(kib)s KiB), %(files)d entries' % figures)
    assert size < 1024 * 1024, 'the tarball is suspiciously large: %d bytes' % size


def test_tarball_carries_the_licence_and_project_files(tarball):
    with tarfile.open(tarball) as archive:
        shipped = dict((name, archive.extractfile(name).read().decode('utf-8')) for name in PROJECT_FILES)
        manifest = json.load(archive.extractfile('MANIFEST.json'))
    for name in PROJECT_FILES:
        with open(os.path.join(ROOT, name), encoding='utf-8') as handle:
            assert shipped[name] == handle.read(), '%s in the tarball differs from the checkout' % name
    licence = shipped['LICENSE']
    # the whole GPL-3.0, not a notice: its first line, its last section and its end
    assert licence.lstrip().startswith('GNU GENERAL PUBLIC LICENSE') and 'Version 3, 29 June 2007' in licence[:200]
    for words in ('TERMS AND CONDITIONS', '17. Interpretation of Sections 15 and 16.', 'END OF TERMS AND CONDITIONS',
                  'How to Apply These Terms to Your New Programs'):
        assert words in licence, words
    assert len(licence) > 34000 and licence.count('\n') > 600
    assert manifest['collection_info']['license'] == ['GPL-3.0-or-later']
    # what the guides promise, so that they are not empty shells
    assert 'docs.ansible.com/ansible/latest/community/code_of_conduct.html' in shipped['CODE_OF_CONDUCT.md']
    for words in ('make demo', 'make test', 'make bench', 'make reliability', 'changelogs/fragments/',
                  'tests/simulator', 'antsibull-changelog lint', 'minutes'):
        assert words in shipped['CONTRIBUTING.md'], words
    for words in ('Reporting a vulnerability', 'secret', 'privately'):
        assert words in shipped['SECURITY.md'], words
    for section in ('New Roles', 'New Playbooks', 'creatio.oauth.integrations', 'creatio.oauth.bootstrap'):
        assert section in shipped['CHANGELOG.rst'], section


def test_installed_copy_runs_the_bootstrap_playbook(installed, simulator, run_playbook, tmp_path):
    tree = os.path.join(installed, 'ansible_collections', NAMESPACE, NAME)
    # the example variables shipped in the installed copy, as `-e @integrations.yml`; secrets go to a temp dir
    with open(os.path.join(tree, 'examples', 'integrations.yml')) as handle:
        example = yaml.safe_load(handle)
    declared = example['creatio_integrations']
    present = [i['name'] for i in declared if i.get('state', 'present') == 'present']
    secrets = str(tmp_path / 'secrets')
    example['creatio_integrations_secrets_dir'] = secrets
    playbook = ('- name: The bootstrap playbook of the installed copy\n'
                '  ansible.builtin.import_playbook: creatio.oauth.bootstrap\n')
    # Only the installed copy: no checkout on the collections path, no site-packages collections.
    env = {'ANSIBLE_COLLECTIONS_PATH': installed, 'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
           'CREATIO_IDENTITY_URL': simulator.identity_url}
    result = run_playbook(playbook, extra_vars=example, env=env)
    assert result.rc == 0, result
    clients = server_clients(simulator)
    assert all(len(clients.get(name, [])) == 1 for name in present), clients
    assert len(writes(simulator.log())) >= len(present)
    assert len(os.listdir(secrets)) == len(present)
    powerbi = [i for i in declared if i.get('preset') == 'powerbi']
    if powerbi:
        assert clients[powerbi[0]['name']][0]['systemUserId'] == POWERBI_USER_ID
    summary = result.task_result('creatio.oauth.integrations : Summary')['msg']
    assert '%d created' % len(present) in summary[0] and '0 failed' in summary[0], summary
    for path in glob.glob(os.path.join(secrets, '*')):
        with open(path) as handle:
            assert json.load(handle)['client_secret'] not in result.output


def _ci_module(name):
    spec = importlib.util.spec_from_file_location('ci_' + name, os.path.join(ROOT, '.ci', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_execution_environment_definition_renders(tarball, tmp_path):
    ee_file = os.path.join(ROOT, 'extensions', 'ee', 'execution-environment.yml')
    with open(ee_file) as handle:
        definition = yaml.safe_load(handle)
    assert definition['version'] == 3
    name = os.path.basename(tarball)
    dependencies = definition['dependencies']
    # the collection's own requirements come from the collection (introspection), never repeated here
    assert 'python' not in dependencies and 'system' not in dependencies, dependencies
    assert dependencies['galaxy']['collections'] == [{'name': '/build/collections/' + name, 'type': 'file'}], \
        'extensions/ee/execution-environment.yml must install %s (python3 .ci/versions.py --write)' % name
    versions = _ci_module('versions')
    matrix = versions.makefile_matrix()
    assert dependencies['ansible_core']['package_pip'] == versions.core_pin(matrix)
    assert dependencies['python_interpreter']['package_system'] == 'python' + versions.ee_python(matrix)
    # the layout the EE file expects: the repo's extensions/ee and build/<tarball> (and a stale tarball
    # of another version beside it, which the pattern copies too but nothing installs)
    repo = tmp_path / 'repo'
    (repo / 'extensions' / 'ee').mkdir(parents=True)
    (repo / 'build').mkdir()
    for source, dest in ((ee_file, repo / 'extensions' / 'ee' / 'execution-environment.yml'), (tarball, repo / 'build' / name)):
        with open(source, 'rb') as src, open(str(dest), 'wb') as dst:
            dst.write(src.read())
    (repo / 'build' / 'creatio-oauth-0.0.1.tar.gz').write_bytes(b'stale')
    context = tmp_path / 'context'
    proc = _run([os.path.join(BIN_DIR, 'ansible-builder'), 'create', '-f', str(repo / 'extensions' / 'ee' / 'execution-environment.yml'),
                 '-c', str(context), '--output-filename', 'Containerfile'], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'No matches' not in proc.stdout + proc.stderr
    build = context / '_build'
    assert not (build / 'requirements.txt').exists() and not (build / 'bindep.txt').exists()
    galaxy = yaml.safe_load((build / 'requirements.yml').read_text())
    assert galaxy['collections'] == [{'name': '/build/collections/' + name, 'type': 'file'}]
    assert (build / 'collections' / name).read_bytes() == open(tarball, 'rb').read()
    containerfile = (context / 'Containerfile').read_text()
    assert 'COPY _build /build' in containerfile and 'introspect' in containerfile
    assert 'ansible-galaxy collection install' in containerfile
    assert versions.core_pin(matrix) in containerfile and 'python%s' % versions.ee_python(matrix) in containerfile


def test_claimed_tested_and_shipped_ansible_core_versions_agree():
    versions = _ci_module('versions')
    assert versions.problems() == []
    matrix = versions.makefile_matrix()
    floor = versions.requires_ansible_floor()
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as handle:
        assert yaml.safe_load(handle)['requires_ansible'] == '>=%s.0' % floor
    cores = versions.tested_cores(matrix)
    assert cores[0] == floor and len(cores) == len(set(cores))
    # more than one controller Python: the cores' controller ranges differ
    assert len(set(python for _core, python in matrix)) > 1
    # the check is not vacuous: each of these is reported
    dropped = [entry for entry in matrix if entry[0] != cores[1]]
    assert [p for p in versions.problems(matrix=dropped) if 'claimed but not tested: ansible-core %s' % cores[1] in p]
    assert [p for p in versions.problems(floor='2.15') if 'claims >=2.15' in p]
    assert [p for p in versions.problems(matrix=matrix + [(cores[0], '3.9')]) if 'not a controller Python' in p]
    with open(versions.EE_FILE) as handle:
        ee_text = handle.read()
    assert [p for p in versions.problems(ee_text=ee_text.replace(versions.core_pin(matrix), 'ansible-core>=2.16,<2.20'))
            if 'package_pip' in p]
    assert [p for p in versions.problems(version='9.9.9') if 'creatio-oauth-9.9.9.tar.gz' in p]


def test_introspection_finds_the_collection_requirements(installed):
    proc = _run([os.path.join(BIN_DIR, 'ansible-builder'), 'introspect', installed])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = yaml.safe_load(proc.stdout)
    assert [line for line in found['python'] if line.startswith('requests') and 'from collection creatio.oauth' in line], found
    assert [line for line in found['system'] if line.startswith('ca-certificates') and 'creatio.oauth' in line], found


# --- ansible-doc and EXAMPLES ---------------------------------------------------------------------

def _module_examples(module):
    with open(os.path.join(ROOT, 'plugins', 'modules', module + '.py')) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ['EXAMPLES']:
            return node.value.value
    raise AssertionError('%s has no EXAMPLES' % module)


def _misplaced_connection_options(node, path='', under_group=False):
    """Paths where a connection option is set anywhere but module_defaults for the collection's group."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = '%s/%s' % (path, key)
            if key in CONNECTION_OPTIONS and not under_group:
                found.append(where)
            if key == 'module_defaults' and isinstance(value, dict):
                for target, defaults in value.items():
                    found += _misplaced_connection_options(defaults, '%s/%s' % (where, target), under_group=target == GROUP)
            elif not under_group:
                found += _misplaced_connection_options(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _misplaced_connection_options(item, '%s[%d]' % (path, index), under_group)
    return found


def _uses_connection_options(node):
    text = json.dumps(node)
    return any('"%s"' % option in text for option in CONNECTION_OPTIONS)


def test_ansible_doc_renders_every_module_and_the_role(collections_path):
    assert MODULES, 'no modules found'
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as handle:
        assert sorted(yaml.safe_load(handle)['action_groups']['creatio']) == CONNECTED
    env = {'ANSIBLE_COLLECTIONS_PATH': collections_path}
    fqcns = ['creatio.oauth.' + m for m in MODULES]
    ansible_doc = os.path.join(BIN_DIR, 'ansible-doc')
    text = _run([ansible_doc, '-t', 'module'] + fqcns, env=env)
    assert text.returncode == 0 and 'ERROR' not in text.stderr and 'WARNING' not in text.stderr, text.stderr
    for fqcn in fqcns:
        assert '> MODULE %s' % fqcn in text.stdout.replace('\x1b[1m', '').replace('\x1b[0m', '')
    assert text.stdout.count('EXAMPLES') == len(fqcns)
    as_json = _run([ansible_doc, '--json', '-t', 'module'] + fqcns, env=env)
    assert as_json.returncode == 0, as_json.stderr
    docs = json.loads(as_json.stdout)
    assert sorted(docs) == fqcns
    for fqcn, doc in docs.items():
        assert doc['doc']['short_description'] and doc['doc']['options'] and doc['examples'] and doc['return'], fqcn
        if fqcn.split('.')[-1] in CONNECTED:
            assert 'creatio_url' in doc['doc']['options'], fqcn  # the connection doc fragment is merged
        else:
            assert 'creatio_url' not in doc['doc']['options'], fqcn
    role = _run([ansible_doc, '-t', 'role', 'creatio.oauth.integrations'], env=env)
    assert role.returncode == 0 and 'ERROR' not in role.stderr, role.stderr
    assert 'creatio_integrations' in role.stdout and 'creatio_integrations_secrets_dir' in role.stdout


def test_examples_are_playbooks_that_use_the_action_group(collections_path, tmp_path):
    playbooks = []
    for module in MODULES:
        examples = yaml.safe_load(_module_examples(module))
        assert isinstance(examples, list) and examples, module
        assert 'creatio.oauth.' + module in json.dumps(examples), '%s EXAMPLES never use the module' % module
        misplaced = _misplaced_connection_options(examples)
        assert not misplaced, '%s EXAMPLES set connection options outside module_defaults %s: %s' % (module, GROUP, misplaced)
        if _uses_connection_options(examples):
            assert GROUP in json.dumps(examples), module
        if all(isinstance(play, dict) and 'hosts' in play for play in examples):
            path = str(tmp_path / (module + '.yml'))
            with open(path, 'w') as handle:
                handle.write(_module_examples(module))
            playbooks.append(path)
    assert playbooks
    inventory = str(tmp_path / 'hosts')
    with open(inventory, 'w') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    proc = _run([os.path.join(BIN_DIR, 'ansible-playbook'), '--syntax-check', '-i', inventory] + playbooks,
                env={'ANSIBLE_COLLECTIONS_PATH': collections_path, 'HOME': str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
