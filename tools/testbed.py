"""What the tests, the demo, the bench and the linters share to run the collection from this checkout:
a collections tree that links to it, and the PLAY RECAP parser. Standard library and PyYAML only."""

from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s*:\s*(?P<counts>(?:\w+=\d+\s*)+)$')
ANSI = re.compile(r'\x1b\[[0-9;]*m')


def collection_meta() -> tuple[str, str]:
    """(namespace, name) from galaxy.yml."""
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    return meta['namespace'], meta['name']


def linked_collection(base: str) -> str:
    """``<base>/ansible_collections/<ns>/<name> -> checkout``; returns the folder to put on
    ANSIBLE_COLLECTIONS_PATH (the checkout's own tree when it already sits in one)."""
    parts = ROOT.split(os.sep)
    if len(parts) > 3 and parts[-3] == 'ansible_collections':
        return os.sep.join(parts[:-3])
    namespace, name = collection_meta()
    ns_dir = os.path.join(base, 'ansible_collections', namespace)
    os.makedirs(ns_dir, exist_ok=True)
    link = os.path.join(ns_dir, name)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    return base


def collection_path(collections: str) -> str:
    """The collection's folder inside a tree made by linked_collection."""
    namespace, name = collection_meta()
    return os.path.join(collections, 'ansible_collections', namespace, name)


def parse_recap(output: str) -> dict:
    """``{'localhost': {'ok': 2, 'changed': 0, 'unreachable': 0, 'failed': 0, ...}}`` from PLAY RECAP."""
    recap, inside = {}, False
    for line in ANSI.sub('', output).splitlines():
        if line.startswith('PLAY RECAP'):
            inside = True
            continue
        if not inside:
            continue
        match = RECAP_LINE.match(line.strip())
        if match:
            recap[match.group('host')] = {k: int(v) for k, v in (p.split('=') for p in match.group('counts').split())}
        elif line.strip():
            inside = False
    return recap
