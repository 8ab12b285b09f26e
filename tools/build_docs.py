#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make docs`: build the collection's documentation site (antsibull-docs + Sphinx), offline.

Steps, all under build/docs (recreated on every run, mode 0700 as antsibull-docs wants):
  1. a copy of the collection in build/docs/collections/ansible_collections/<ns>/<name>
     (what ansible-doc and antsibull-docs read: plugins, roles, meta, docs/docsite, ...);
  2. `antsibull-docs sphinx-init --use-current --squash-hierarchy` into build/docs/sphinx, then
     the offline switch appended to its conf.py (no intersphinx downloads, and the two labels that
     live in the unreachable Ansible docs are not reported);
  3. `antsibull-docs collection --use-current --fail-on-error` renders the module and role
     reference plus the user guide (docs/docsite/extra-docs.yml) into RST;
  4. `sphinx-build -W --keep-going` (warnings are errors) into build/docs/html.

Runs with the Python of the tools venv (.venvs/tools); its bin folder provides antsibull-docs,
ansible-doc and sphinx-build. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
BUILD = os.path.join(ROOT, 'build', 'docs')
BIN = os.path.dirname(os.path.abspath(sys.executable))
# What the docs are made of; the rest of the checkout (tests, venvs, build output) stays out.
COLLECTION_CONTENT = ('galaxy.yml', 'README.md', 'meta', 'plugins', 'roles', 'playbooks', 'docs', 'changelogs',
                      'extensions')
# import name -> package on the index; tests/requirements-tools.txt lists them for `make venv`
REQUIRED = {
    'antsibull_docs': 'antsibull-docs',
    'sphinx': 'sphinx',
    'sphinx_ansible_theme': 'sphinx-ansible-theme',
    'ansible_pygments': 'ansible-pygments',
}
OFFLINE_CONF = '''

# --- added by tools/build_docs.py: build without network ------------------------------------
import os  # noqa: E402
if os.environ.get('DOCS_OFFLINE') == '1':
    intersphinx_mapping = {}
    # labels and Ansible's own environment variables (E(ANSIBLE_...)) that live in the (unreachable) Ansible docs
    suppress_warnings = ['ref.ref', 'ref.envvar']
'''


def run(cmd, cwd, env):
    started = time.monotonic()
    print('+ %s' % ' '.join(cmd), flush=True)
    rc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, check=False).returncode
    print('  (rc=%d, %.1f s)' % (rc, time.monotonic() - started), flush=True)
    if rc != 0:
        raise SystemExit('make docs FAILED: %s exited with %d' % (os.path.basename(cmd[0]), rc))


def ensure_requirements():
    """The docs packages come with the tools venv; a venv made before they were listed gets them now."""
    missing = [package for module, package in REQUIRED.items() if importlib.util.find_spec(module) is None]
    if missing:
        print('=== installing the missing docs packages into %s: %s' % (sys.prefix, ' '.join(missing)), flush=True)
        subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-q', '--disable-pip-version-check'] + missing)


def copy_collection(dest):
    os.makedirs(dest)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.pytest_cache')
    for item in COLLECTION_CONTENT:
        source = os.path.join(ROOT, item)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(dest, item), ignore=ignore)
        elif os.path.isfile(source):
            shutil.copy2(source, os.path.join(dest, item))


def main() -> int:
    started = time.monotonic()
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    fqcn = '%s.%s' % (meta['namespace'], meta['name'])
    ensure_requirements()

    if os.path.exists(BUILD):
        shutil.rmtree(BUILD)
    collections = os.path.join(BUILD, 'collections')
    sphinx = os.path.join(BUILD, 'sphinx')
    html = os.path.join(BUILD, 'html')
    for folder in (BUILD, collections, sphinx):
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o700)  # antsibull-docs refuses a destination others can write to
    copy_collection(os.path.join(collections, 'ansible_collections', meta['namespace'], meta['name']))

    env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    env.update({
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
        'ANSIBLE_COLLECTIONS_PATH': collections,
        'ANSIBLE_NOCOLOR': '1',
        'DOCS_OFFLINE': '1',
        'PYTHONDONTWRITEBYTECODE': '1',
    })
    antsibull = os.path.join(BIN, 'antsibull-docs')
    run([antsibull, 'sphinx-init', '--use-current', '--squash-hierarchy', '--fail-on-error',
         '--project', fqcn, '--copyright', 'creatio.oauth contributors',
         '--title', 'Creatio OAuth collection (%s)' % fqcn, '--dest-dir', sphinx, fqcn], ROOT, env)
    with open(os.path.join(sphinx, 'conf.py'), 'a', encoding='utf-8') as handle:
        handle.write(OFFLINE_CONF)

    rst = os.path.join(sphinx, 'rst')
    os.makedirs(rst, exist_ok=True)
    os.chmod(rst, 0o700)
    run([antsibull, '--config-file', 'antsibull-docs.cfg', 'collection', '--cleanup', 'everything', '--use-current',
         '--squash-hierarchy', '--fail-on-error', '--dest-dir', rst, fqcn], sphinx, env)
    run([os.path.join(BIN, 'sphinx-build'), '-b', 'html', '-c', '.', '-W', '--keep-going', '-q', rst, html], sphinx, env)

    print('make docs: OK in %.0f s; the site is %s' % (time.monotonic() - started, os.path.join(html, 'index.html')),
          flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
