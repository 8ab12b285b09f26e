# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts cache: atomic writes, flock, refusal to touch a damaged file, permissions."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import multiprocessing
import os
import stat
import time

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _cache as cache_mod
from ansible_collections.creatio.oauth.plugins.module_utils._cache import FactsCache, JsonFile, assert_no_secret
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

SITE = 'https://site.example'


def record(name='App', client_id='cid'):
    return {'name': name, 'client_id': client_id, 'grant_type': 'client_credentials', 'application_url': 'https://a.example',
            'system_user_id': None, 'active': True, 'redirect_urls': []}


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def fork_context():
    if 'fork' not in multiprocessing.get_all_start_methods():
        pytest.skip('needs the fork start method')
    return multiprocessing.get_context('fork')


def test_put_get_delete_roundtrip(tmp_path):
    path = str(tmp_path / 'facts.json')
    cache = FactsCache(path)
    assert cache.get(SITE, 'App') is None and cache.clients(SITE) == {}
    cache.put(SITE, 'App', record())
    got = cache.get(SITE, 'App')
    assert got['client_id'] == 'cid' and got['confirmed_at'].endswith('Z')
    got['client_id'] = 'changed'
    assert cache.get(SITE, 'App')['client_id'] == 'cid'  # a copy
    assert cache.get('https://other.example', 'App') is None
    with open(path) as handle:
        document = json.load(handle)
    assert document['schema_version'] == 1 and list(document['sites'][SITE]['clients']) == ['App']
    cache.delete(SITE, 'App')
    cache.delete(SITE, 'Never there')
    assert cache.get(SITE, 'App') is None


def test_atomic_write_keeps_the_old_file_on_a_failed_rename(tmp_path, monkeypatch):
    path = tmp_path / 'facts.json'
    cache = FactsCache(str(path))
    cache.put(SITE, 'First', record('First'))
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError(5, 'simulated crash during rename')

    monkeypatch.setattr(os, 'rename', crash)
    with pytest.raises(OSError):
        cache.put(SITE, 'Second', record('Second'))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(str(tmp_path))) == ['facts.json', 'facts.json.lock']  # no temporary file left
    assert list(FactsCache(str(path)).clients(SITE)) == ['First']


def test_atomic_write_cleans_up_when_fsync_fails(tmp_path, monkeypatch):
    path = tmp_path / 'facts.json'
    cache = FactsCache(str(path))
    cache.put(SITE, 'First', record('First'))
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError):
        cache.put(SITE, 'Second', record('Second'))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(str(tmp_path))) == ['facts.json', 'facts.json.lock']


def _put_many(path, index):
    cache = FactsCache(path)
    for round_ in range(3):
        cache.put(SITE, 'client-%02d-%d' % (index, round_), record('client-%02d' % index, 'cid%d' % index))


def test_concurrent_puts_from_20_processes_lose_nothing(tmp_path):
    ctx = fork_context()
    path = str(tmp_path / 'facts.json')
    procs = [ctx.Process(target=_put_many, args=(path, i)) for i in range(20)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    assert [p.exitcode for p in procs] == [0] * 20
    names = FactsCache(path).clients(SITE)
    assert sorted(names) == sorted('client-%02d-%d' % (i, r) for i in range(20) for r in range(3))


def test_corrupt_json_is_an_error_naming_the_file_and_never_replaced(tmp_path):
    path = tmp_path / 'facts.json'
    path.write_text('{"schema_version": 1, "sites": {')
    cache = FactsCache(str(path))
    for action in (lambda: cache.get(SITE, 'App'), lambda: cache.put(SITE, 'App', record()),
                   lambda: cache.check_usable(writable=True), lambda: cache.check_usable(writable=False)):
        with pytest.raises(CacheError) as info:
            action()
        assert str(path) in info.value.message and 'not valid JSON' in info.value.message
        assert 'never replaced' in info.value.hint
        assert info.value.path == str(path)
    assert path.read_text() == '{"schema_version": 1, "sites": {'


def test_non_utf8_is_corrupt(tmp_path):
    path = tmp_path / 'facts.json'
    path.write_bytes(b'\xff\xfe\x00garbage')
    with pytest.raises(CacheError) as info:
        FactsCache(str(path)).clients(SITE)
    assert 'not valid JSON' in info.value.message


@pytest.mark.parametrize('document', [{'schema_version': 2, 'sites': {}}, {'sites': {}}, [1, 2], 'text', {'schema_version': '1'}])
def test_unknown_schema_version(tmp_path, document):
    path = tmp_path / 'facts.json'
    path.write_text(json.dumps(document))
    with pytest.raises(CacheError) as info:
        FactsCache(str(path)).put(SITE, 'App', record())
    assert 'schema version' in info.value.message and str(path) in info.value.message
    assert json.loads(path.read_text()) == document


def test_permissions_even_with_umask_0(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / 'newdir' / 'facts.json'
        cache = FactsCache(str(path))
        cache.check_usable(writable=True)
        cache.put(SITE, 'App', record())
        with cache.name_lock(SITE, 'App'):
            pass
    finally:
        os.umask(old)
    assert mode_of(tmp_path / 'newdir') == 0o700
    assert mode_of(path) == 0o600
    assert mode_of(str(path) + '.lock') == 0o600
    assert mode_of(str(path) + '.locks') == 0o700
    lock_files = os.listdir(str(path) + '.locks')
    assert len(lock_files) == 1 and mode_of(os.path.join(str(path) + '.locks', lock_files[0])) == 0o600


def test_rewrite_keeps_mode_0600(tmp_path):
    path = tmp_path / 'facts.json'
    cache = FactsCache(str(path))
    cache.put(SITE, 'A', record())
    os.chmod(str(path), 0o644)
    cache.put(SITE, 'B', record())
    assert mode_of(path) == 0o600


def test_check_usable_missing_parent_folder(tmp_path):
    path = tmp_path / 'missing' / 'deeper' / 'facts.json'
    with pytest.raises(CacheError) as info:
        FactsCache(str(path)).check_usable(writable=True)
    assert 'does not exist' in info.value.message and str(tmp_path / 'missing') in info.value.message
    assert not (tmp_path / 'missing').exists()
    FactsCache(str(path)).check_usable(writable=False)  # a read of a missing file is fine


def test_check_usable_path_is_a_directory(tmp_path):
    with pytest.raises(CacheError) as info:
        FactsCache(str(tmp_path)).check_usable(writable=False)
    assert 'is a directory' in info.value.message and info.value.hint


@pytest.mark.parametrize('path, words', [
    ('/proc/creatio-oauth-test/facts.json', 'cannot create the folder'),
    ('/proc/creatio-oauth-test-facts.json', 'cannot write in /proc'),
])
def test_check_usable_unwritable_place(path, words):
    if not os.path.isdir('/proc'):
        pytest.skip('needs /proc')
    with pytest.raises(CacheError) as info:
        FactsCache(path).check_usable(writable=True)
    assert words in info.value.message and 'cache_path' in info.value.message


def test_check_usable_creates_only_the_folder(tmp_path):
    path = tmp_path / 'sub' / 'facts.json'
    FactsCache(str(path)).check_usable(writable=True)
    assert os.listdir(str(tmp_path / 'sub')) == []  # the probe file is gone, nothing written


@pytest.mark.parametrize('key', ['client_secret', 'clientSecret', 'Password', 'access_token', 'cookies', 'BPMCSRF'])
def test_assert_no_secret(tmp_path, key):
    with pytest.raises(CacheError) as info:
        assert_no_secret(dict(record(), **{key: 'value'}))
    assert repr(key) in info.value.message
    path = tmp_path / 'facts.json'
    with pytest.raises(CacheError):
        FactsCache(str(path)).put(SITE, 'App', dict(record(), **{key: 'value'}))
    assert not path.exists()
    assert_no_secret(record())  # the usual record passes


def _hold_name_lock(path, name, ready, releasing, hold):
    with FactsCache(path).name_lock(SITE, name):
        ready.set()
        time.sleep(hold)
        releasing.set()  # still inside: whoever gets the lock after this point waited for us


def test_name_lock_serialises_across_processes(tmp_path):
    ctx = fork_context()
    path = str(tmp_path / 'facts.json')
    ready, releasing = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_name_lock, args=(path, 'App', ready, releasing, 1.0))
    holder.start()
    try:
        assert ready.wait(10)
        cache = FactsCache(path)
        with cache.name_lock(SITE, 'Other name'):
            other_did_not_wait = not releasing.is_set()
        with cache.name_lock(SITE, 'App'):
            same_waited = releasing.is_set()
    finally:
        holder.join(10)
    assert holder.exitcode == 0
    assert other_did_not_wait  # another name is not blocked by the holder
    assert same_waited  # the same name waited until the holder let go


def _hold_file_lock(path, ready, releasing, hold):
    with JsonFile(path).locked():
        ready.set()
        time.sleep(hold)
        releasing.set()


def test_lock_serialises_read_modify_write(tmp_path):
    """While one process holds the file lock, another's update waits for it."""
    ctx = fork_context()
    path = str(tmp_path / 'facts.json')
    ready, releasing = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_file_lock, args=(path, ready, releasing, 0.5))
    proc.start()
    try:
        assert ready.wait(10)
        FactsCache(path).put(SITE, 'App', record())
        waited = releasing.is_set()
    finally:
        proc.join(10)
    assert waited and proc.exitcode == 0


def test_now_iso_format():
    assert len(cache_mod.now_iso()) == 20 and cache_mod.now_iso()[10] == 'T'


def test_reads_parse_once_and_see_every_write_of_another_process(tmp_path, monkeypatch):
    path = str(tmp_path / 'facts.json')
    reader, writer = FactsCache(path), FactsCache(path)
    writer.put(SITE, 'A', record('A', 'a1'))
    parses = []
    real_read = JsonFile.read
    monkeypatch.setattr(JsonFile, 'read', lambda self: parses.append(1) or real_read(self))
    reader.check_usable(writable=False)  # what every module run does first: its parse serves the lookups
    assert reader.get(SITE, 'A')['client_id'] == 'a1'
    assert reader.get(SITE, 'A')['client_id'] == 'a1' and reader.get(SITE, 'B') is None
    assert len(parses) == 1
    reader.get(SITE, 'A')['client_id'] = 'mutated by a caller'
    assert reader.get(SITE, 'A')['client_id'] == 'a1'
    writer.put(SITE, 'B', record('B', 'b1'))  # another instance: an atomic rename, a new inode
    assert reader.get(SITE, 'B')['client_id'] == 'b1'
    writer.delete(SITE, 'A')
    assert reader.get(SITE, 'A') is None and sorted(reader.clients(SITE)) == ['B']
