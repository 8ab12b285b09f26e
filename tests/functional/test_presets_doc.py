# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The presets' defaults and requirements are stated in four documents; each is generated from
_rules.PRESETS (.ci/presets_doc.py), and the lint step fails when one drifts."""

from __future__ import absolute_import, division, print_function

import importlib.util
import os
import shutil
import subprocess
import sys

import yaml

from helpers import ROOT  # pylint: disable=import-error

SCRIPT = os.path.join(ROOT, '.ci', 'presets_doc.py')


def _presets_doc():
    spec = importlib.util.spec_from_file_location('presets_doc', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_targets(module, root):
    for rel, _opener, _make in module.TARGETS:
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, rel), os.path.join(root, rel))


def test_the_documents_match_the_presets_applied():
    result = subprocess.run([sys.executable, SCRIPT, '--check'], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_preset_default_appears_in_every_document():
    module = _presets_doc()
    rules = module.rules_module()
    for rel, _opener, _make in module.TARGETS:
        with open(os.path.join(ROOT, rel), encoding='utf-8') as handle:
            text = handle.read()
        generated = text[text.index(module.BEGIN):text.index(module.END)]
        for name in rules.PRESET_NAMES:
            assert name in generated, (rel, name)
            url = rules.PRESETS[name].defaults.get('application_url')
            if url:
                assert url in generated, (rel, url)


def test_a_hand_edited_default_fails_the_check(tmp_path):
    module = _presets_doc()
    _copy_targets(module, str(tmp_path))
    readme = tmp_path / 'roles' / 'integrations' / 'README.md'
    readme.write_text(readme.read_text(encoding='utf-8').replace('https://app.clio.com', 'https://clio.example.com'),
                      encoding='utf-8')
    result = subprocess.run([sys.executable, SCRIPT, '--check', '--root', str(tmp_path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 1
    assert 'roles/integrations/README.md' in result.stderr
    assert 'presets.rst' not in result.stderr  # the untouched ones are in line
    # a write puts it back
    subprocess.run([sys.executable, SCRIPT, '--root', str(tmp_path)], check=True, capture_output=True)
    assert 'https://app.clio.com' in readme.read_text(encoding='utf-8')


def test_the_generated_yaml_is_still_the_documentation_it_was():
    """The role's spec and the module's DOCUMENTATION keep parsing, with the generated items in the lists."""
    with open(os.path.join(ROOT, 'roles', 'integrations', 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        spec = yaml.safe_load(handle)
    description = spec['argument_specs']['main']['description']
    assert any(line.startswith('Defaults: ') and 'V(https://app.powerbi.com)' in line for line in description)
    spec = importlib.util.spec_from_file_location('clients_module', os.path.join(ROOT, 'plugins', 'modules', 'creatio_oauth_clients.py'))
    source = open(spec.origin, encoding='utf-8').read()
    documentation = source[source.index("DOCUMENTATION = r'''") + len("DOCUMENTATION = r'''"):]
    documentation = documentation[:documentation.index("'''")]
    preset = yaml.safe_load(documentation)['options']['clients']['suboptions']['preset']['description']
    assert any(line.startswith('Presets: ') and 'V(https://outlook.office.com)' in line for line in preset)


def test_a_missing_marker_is_named(tmp_path):
    module = _presets_doc()
    _copy_targets(module, str(tmp_path))
    rst = tmp_path / 'docs' / 'docsite' / 'rst' / 'presets.rst'
    rst.write_text(rst.read_text(encoding='utf-8').replace(module.END, 'the end'), encoding='utf-8')
    result = subprocess.run([sys.executable, SCRIPT, '--check', '--root', str(tmp_path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode != 0
    assert 'presets.rst' in result.stderr
