"""Write (or check) the AWX credential type in the form `awx import` takes, from its one source.

Source: extensions/awx/creatio_credential_type.yml (the options of awx.awx.credential_type:
name, description, kind, inputs, injectors).
Written: extensions/awx/creatio_credential_type.import.json, the format of `awx export` /
`awx import` and of the awx.awx.import module: {"credential_types": [{..., "natural_key": {...}}]}.
awxkit's import matches an existing credential type by its natural key (name and kind) and
updates it in place, so importing the file again after an upgrade updates the type.

    python3 .ci/awx_forms.py            # (re)write the JSON file
    python3 .ci/awx_forms.py --check    # exit 1 if it is missing or out of date (make lint runs this)

Needs PyYAML (the tools venv has it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SOURCE = os.path.join(ROOT, 'extensions', 'awx', 'creatio_credential_type.yml')
IMPORT_FILE = os.path.join(ROOT, 'extensions', 'awx', 'creatio_credential_type.import.json')
KEYS = ('name', 'description', 'kind', 'inputs', 'injectors')


def import_document(source: str = SOURCE) -> dict:
    with open(source, encoding='utf-8') as handle:
        credential_type = yaml.safe_load(handle)
    unknown = set(credential_type) - set(KEYS)
    if unknown:
        raise ValueError('%s: keys that awx.awx.credential_type does not take: %s' % (source, sorted(unknown)))
    asset = dict((key, credential_type[key]) for key in KEYS if key in credential_type)
    asset['natural_key'] = {'name': credential_type['name'], 'kind': credential_type['kind'], 'type': 'credential_type'}
    return {'credential_types': [asset]}


def render(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=True) + '\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true', help='only check that the JSON file is up to date')
    args = parser.parse_args()
    wanted = render(import_document())
    current = None
    if os.path.exists(IMPORT_FILE):
        with open(IMPORT_FILE, encoding='utf-8') as handle:
            current = handle.read()
    rel = os.path.relpath(IMPORT_FILE, ROOT)
    if args.check:
        if current != wanted:
            print('%s is %s: run python3 .ci/awx_forms.py' % (rel, 'missing' if current is None else 'out of date'),
                  file=sys.stderr)
            return 1
        print('%s is up to date' % rel)
        return 0
    if current != wanted:
        with open(IMPORT_FILE + '.tmp', 'w', encoding='utf-8') as handle:
            handle.write(wanted)
        os.replace(IMPORT_FILE + '.tmp', IMPORT_FILE)
        print('wrote %s' % rel)
    else:
        print('%s was up to date' % rel)
    return 0


if __name__ == '__main__':
    sys.exit(main())
