# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts cache: atomic writes, flock, refusal to touch a damaged file, permissions."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import multiprocessing
import os
import stat
import time

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _cache as cache_mod
from ansible_collections.creatio.oauth.plugins.module_utils import _json_file as json_file
from ansible_collections.creatio.oauth.plugins.module_utils._cache import FactsCache, assert_no_secret
from ansible_collections.creatio.oauth.plugins.module_utils._json_file import JsonFile
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

SITE = 'https://site.example'


def record(name='App', client_id='cid'):
    return {'name': name, 'client_id': client_id, 'grant_type': 'client_credentials', 'application_url': 'https://a.example',
            'system_user_id': None, 'active': True, 'redirect_urls': []}


def site_path(path, site=SITE):
    """The file of ``site`` in the facts cache ``path`` (one file per site)."""
    return FactsCache(str(path)).site_file(site).path


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
    assert not os.path.exists(path)  # one file per site, in facts.sites/ beside it
    with open(site_path(path)) as handle:
        document = json.load(handle)
    assert document['schema_version'] == 1 and list(document['sites'][SITE]['clients']) == ['App']
    assert os.path.dirname(site_path(path)) == str(tmp_path / 'facts.sites')
    assert site_path(path) != site_path(path, 'https://other.example')
    cache.delete(SITE, 'App')
    cache.delete(SITE, 'Never there')
    assert cache.get(SITE, 'App') is None


def test_atomic_write_keeps_the_old_file_on_a_failed_rename(tmp_path, monkeypatch):
    cache = FactsCache(str(tmp_path / 'facts.json'))
    cache.put(SITE, 'First', record('First'))
    path = tmp_path / 'facts.sites' / os.path.basename(site_path(tmp_path / 'facts.json'))
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError(5, 'simulated crash during rename')

    monkeypatch.setattr(os, 'rename', crash)
    with pytest.raises(OSError):
        cache.put(SITE, 'Second', record('Second'))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(str(path.parent))) == [path.name, path.name + '.lock']  # no temporary file left
    assert list(FactsCache(str(tmp_path / 'facts.json')).clients(SITE)) == ['First']


def test_atomic_write_cleans_up_when_fsync_fails(tmp_path, monkeypatch):
    cache = FactsCache(str(tmp_path / 'facts.json'))
    cache.put(SITE, 'First', record('First'))
    path = tmp_path / 'facts.sites' / os.path.basename(site_path(tmp_path / 'facts.json'))
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError):
        cache.put(SITE, 'Second', record('Second'))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(str(path.parent))) == [path.name, path.name + '.lock']


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
    assert mode_of(tmp_path / 'newdir' / 'facts.sites') == 0o700
    assert mode_of(site_path(path)) == 0o600
    assert mode_of(site_path(path) + '.lock') == 0o600
    assert mode_of(str(path) + '.locks') == 0o700
    lock_files = os.listdir(str(path) + '.locks')
    assert len(lock_files) == 1 and mode_of(os.path.join(str(path) + '.locks', lock_files[0])) == 0o600


def test_rewrite_keeps_mode_0600(tmp_path):
    path = tmp_path / 'facts.json'
    cache = FactsCache(str(path))
    cache.put(SITE, 'A', record())
    os.chmod(site_path(path), 0o644)
    cache.put(SITE, 'B', record())
    assert mode_of(site_path(path)) == 0o600


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
    assert not path.exists() and not os.path.exists(site_path(path))
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
    with FactsCache(path).site_file(SITE).locked():
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
    assert len(json_file.now_iso()) == 20 and json_file.now_iso()[10] == 'T'


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


# --- one file per site (issue 15): the layout, the migration of an old single document, the lock stats

OTHER = 'https://other.example/CreatioApp'


def legacy_document():
    return {'schema_version': 1, 'sites': {
        SITE: {'clients': {'App': dict(record(), confirmed_at='2024-01-01T00:00:00Z')}},
        OTHER: {'clients': {'Other': dict(record('Other', 'oid'), redirect_urls=[{'id': 'r1', 'url': 'https://o.example/cb'}],
                                          confirmed_at='2024-01-01T00:00:00Z')}}}}


def test_sites_have_their_own_files_and_locks(tmp_path):
    path = str(tmp_path / 'facts.json')
    cache = FactsCache(path)
    cache.put(SITE, 'App', record())
    cache.put(OTHER, 'Other', record('Other', 'oid'))
    names = sorted(os.listdir(str(tmp_path / 'facts.sites')))
    assert len([n for n in names if n.endswith('.json')]) == 2 and len([n for n in names if n.endswith('.lock')]) == 2
    assert any(n.startswith('other.example_CreatioApp-') for n in names)  # readable, and unique by a hash
    with open(site_path(path, OTHER)) as handle:
        assert list(json.load(handle)['sites']) == [OTHER]  # a file holds its own site only
    assert cache_mod.site_file_name(SITE) != cache_mod.site_file_name(SITE + '/x')
    assert cache_mod.site_file_name('https://a.example/x_y') != cache_mod.site_file_name('https://a.example/x/y')


def test_an_old_single_document_is_migrated_and_kept(tmp_path):
    path = tmp_path / 'facts.json'
    path.write_text(json.dumps(legacy_document()))
    original = path.read_text()
    FactsCache(str(path)).check_usable(writable=True)  # what the first module run that may write does
    assert not path.exists()
    assert (tmp_path / 'facts.json.migrated').read_text() == original  # never lost
    cache = FactsCache(str(path))
    assert cache.get(SITE, 'App')['client_id'] == 'cid'
    assert cache.get(OTHER, 'Other')['redirect_urls'] == [{'id': 'r1', 'url': 'https://o.example/cb'}]  # ids kept
    assert mode_of(site_path(path, OTHER)) == 0o600


def test_check_mode_reads_the_old_document_without_migrating(tmp_path):
    path = tmp_path / 'facts.json'
    path.write_text(json.dumps(legacy_document()))
    cache = FactsCache(str(path))
    cache.check_usable(writable=False)
    assert cache.get(OTHER, 'Other')['client_id'] == 'oid' and sorted(cache.clients(SITE)) == ['App']
    assert path.exists() and not (tmp_path / 'facts.sites').exists()


def test_a_write_migrates_first_even_without_check_usable(tmp_path):
    path = tmp_path / 'facts.json'
    path.write_text(json.dumps(legacy_document()))
    FactsCache(str(path)).put(SITE, 'New', record('New', 'nid'))
    cache = FactsCache(str(path))
    assert sorted(cache.clients(SITE)) == ['App', 'New'] and cache.get(OTHER, 'Other')['client_id'] == 'oid'
    assert not path.exists() and (tmp_path / 'facts.json.migrated').exists()


def test_migration_keeps_a_newer_site_file_and_never_overwrites_an_earlier_migrated_file(tmp_path):
    path = tmp_path / 'facts.json'
    cache = FactsCache(str(path))
    cache.put(SITE, 'App', record('App', 'newer'))
    (tmp_path / 'facts.json.migrated').write_text('an earlier migration')
    path.write_text(json.dumps(legacy_document()))  # say an older version of the collection wrote it again
    FactsCache(str(path)).check_usable(writable=True)
    assert FactsCache(str(path)).get(SITE, 'App')['client_id'] == 'newer'  # the site's own file wins
    assert FactsCache(str(path)).get(OTHER, 'Other')['client_id'] == 'oid'
    assert (tmp_path / 'facts.json.migrated').read_text() == 'an earlier migration'
    kept = [n for n in os.listdir(str(tmp_path)) if n.startswith('facts.json.migrated.')]
    assert len(kept) == 1 and json.loads((tmp_path / kept[0]).read_text()) == legacy_document()


def test_a_corrupt_old_document_is_not_migrated(tmp_path):
    path = tmp_path / 'facts.json'
    path.write_text('{"schema_version": 1, "sites": {')
    with pytest.raises(CacheError) as info:
        FactsCache(str(path)).check_usable(writable=True)
    assert 'not valid JSON' in info.value.message
    assert path.read_text() == '{"schema_version": 1, "sites": {' and not (tmp_path / 'facts.json.migrated').exists()


def _put_site(path, index):
    cache = FactsCache(path)
    for round_ in range(5):
        cache.put('https://site%02d.example' % index, 'client-%d' % round_, record('client-%d' % round_, 'c%d' % round_))


def test_migration_and_writes_of_many_processes_lose_nothing(tmp_path):
    ctx = fork_context()
    path = tmp_path / 'facts.json'
    path.write_text(json.dumps(legacy_document()))
    procs = [ctx.Process(target=_put_site, args=(str(path), i)) for i in range(10)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    assert [p.exitcode for p in procs] == [0] * 10
    cache = FactsCache(str(path))
    for index in range(10):
        assert sorted(cache.clients('https://site%02d.example' % index)) == ['client-%d' % r for r in range(5)]
    assert cache.get(OTHER, 'Other')['client_id'] == 'oid'
    assert [n for n in os.listdir(str(tmp_path)) if n.startswith('facts.json')] == ['facts.json.lock', 'facts.json.migrated']


def _hold_site_lock(path, site, ready, releasing, hold):
    with FactsCache(path).site_file(site).locked():
        ready.set()
        time.sleep(hold)
        releasing.set()


def test_a_write_on_one_site_does_not_wait_for_another_site(tmp_path):
    ctx = fork_context()
    path = str(tmp_path / 'facts.json')
    ready, releasing = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_site_lock, args=(path, OTHER, ready, releasing, 1.0))
    holder.start()
    try:
        assert ready.wait(10)
        FactsCache(path).put(SITE, 'App', record())
        did_not_wait = not releasing.is_set()
    finally:
        holder.join(10)
    assert did_not_wait and holder.exitcode == 0


def test_lock_stats_and_no_lock_for_an_unchanged_put(tmp_path, monkeypatch):
    stats = tmp_path / 'locks.jsonl'
    monkeypatch.setenv(json_file.LOCK_STATS_ENV, str(stats))
    cache = FactsCache(str(tmp_path / 'facts.json'))
    cache.put(SITE, 'App', record())
    with cache.name_lock(SITE, 'App'):
        pass
    lines = [json.loads(line) for line in stats.read_text().splitlines()]
    assert [sorted(line) for line in lines] == [['held', 'lock', 'pid', 'wait']] * 2
    assert lines[0]['lock'] == os.path.basename(site_path(tmp_path / 'facts.json')) + '.lock'
    assert all(line['wait'] == 0 and line['held'] >= 0 for line in lines)
    cache.put(SITE, 'App', record())  # the same, confirmed a moment ago: neither written nor locked
    assert len(stats.read_text().splitlines()) == 2
    monkeypatch.delenv(json_file.LOCK_STATS_ENV)
    cache.put(SITE, 'App', record('App', 'changed'))
    assert len(stats.read_text().splitlines()) == 2  # off unless asked for


def test_lock_stats_count_the_wait(tmp_path, monkeypatch):
    ctx = fork_context()
    stats = tmp_path / 'locks.jsonl'
    path = str(tmp_path / 'facts.json')
    ready, releasing = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_site_lock, args=(path, SITE, ready, releasing, 0.5))
    holder.start()
    try:
        assert ready.wait(10)
        monkeypatch.setenv(json_file.LOCK_STATS_ENV, str(stats))
        FactsCache(path).put(SITE, 'App', record())
    finally:
        holder.join(10)
    (line,) = [json.loads(text) for text in stats.read_text().splitlines()]
    assert 0.2 < line['wait'] < 5


def test_keep_aside_never_overwrites(tmp_path):
    (tmp_path / 'a').write_text('first')
    (tmp_path / 'a.old').write_text('taken')
    kept = json_file.keep_aside(str(tmp_path / 'a'), str(tmp_path / 'a.old'), 'cache_path')
    assert kept.startswith(str(tmp_path / 'a.old.')) and open(kept).read() == 'first'
    assert (tmp_path / 'a.old').read_text() == 'taken' and not (tmp_path / 'a').exists()


# --- links planted at the collection's file names, and open folders (issue 20 item 6) ------------

def test_a_dangling_link_at_a_lock_file_creates_nothing_at_its_target(tmp_path):
    """O_CREAT follows a dangling link: the run once made an empty file wherever the link pointed."""
    target = tmp_path / 'elsewhere' / 'planted'
    target.parent.mkdir()
    cache = FactsCache(str(tmp_path / 'cache' / 'facts.json'))
    cache.check_usable(writable=True)
    lock = site_path(tmp_path / 'cache' / 'facts.json') + '.lock'
    os.mkdir(os.path.dirname(lock), 0o700)
    os.symlink(str(target), lock)
    with pytest.raises(CacheError) as refused:
        cache.put(SITE, 'App', record())
    assert 'it is a symbolic link' in refused.value.message and not os.path.lexists(str(target))
    name_lock = str(tmp_path / 'cache' / 'facts.json.locks')
    os.mkdir(name_lock)
    digest = hashlib.sha256(('%s\n%s' % (SITE, 'App')).encode('utf-8')).hexdigest()[:32]
    os.symlink(str(target), os.path.join(name_lock, digest + '.lock'))
    with pytest.raises(CacheError):
        with cache.name_lock(SITE, 'App'):
            pass
    assert not os.path.lexists(str(target))


def test_a_lock_folder_that_is_a_link_is_refused(tmp_path):
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    (tmp_path / 'cache').mkdir(mode=0o700)
    os.symlink(str(elsewhere), str(tmp_path / 'cache' / 'facts.json.locks'))
    with pytest.raises(CacheError) as refused:
        with FactsCache(str(tmp_path / 'cache' / 'facts.json')).name_lock(SITE, 'App'):
            pass
    assert 'not a folder of the collection' in refused.value.message and os.listdir(str(elsewhere)) == []


def test_a_cache_file_that_is_a_link_is_refused_not_followed(tmp_path):
    real = tmp_path / 'real.json'
    real.write_text(u'{"schema_version": 1, "sites": {}}')
    (tmp_path / 'cache').mkdir(mode=0o700)
    os.symlink(str(real), str(tmp_path / 'cache' / 'facts.json'))
    with pytest.raises(CacheError) as refused:
        FactsCache(str(tmp_path / 'cache' / 'facts.json')).check_usable(writable=False)
    assert 'is a symbolic link' in refused.value.message and refused.value.hint.startswith('remove the link')


@pytest.mark.parametrize('mode', [0o777, 0o755, 0o750, 0o701])
def test_a_cache_folder_other_users_can_open_gets_a_warning(tmp_path, mode):
    folder = tmp_path / 'cache'
    folder.mkdir()
    os.chmod(str(folder), mode)
    warning = FactsCache(str(folder / 'facts.json')).open_folder_warning()
    assert warning and 'sessions.json' in warning and '(mode %04o)' % mode in warning and 'chmod 700 %s' % folder in warning
    os.chmod(str(folder), 0o700)
    assert FactsCache(str(folder / 'facts.json')).open_folder_warning() is None
