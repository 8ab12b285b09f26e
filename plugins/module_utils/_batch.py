# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Many integrations in one task: the service of
creatio_oauth_clients (and so of the integrations role).

Every item is validated first (every problem is reported, nothing is sent while one remains); the
lookups of all items are read with one OData request; each item is then applied exactly as
creatio_oauth_client applies one. A failure that concerns one item leaves the others going; one that
would fail every item stops the batch. The result carries the role's report (_report.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integrations
from ansible_collections.creatio.oauth.plugins.module_utils import _report as report
from ansible_collections.creatio.oauth.plugins.module_utils import _rotation as rotation
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_delivery as secret_delivery
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Options
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    BusinessError, ConfigurationError, CreatioError, LostAnswerError)
from ansible_collections.creatio.oauth.plugins.module_utils._identity import check_token
from ansible_collections.creatio.oauth.plugins.module_utils._run import error_result
from ansible_collections.creatio.oauth.plugins.module_utils._users import resolve as resolve_system_users


def item_argspec():
    """The options of one item of ``clients``: one integration, and the preset it may name."""
    spec = integrations.client_argspec()
    # Not a choices list: a wrong preset is reported with every other problem of the list at once.
    spec['preset'] = dict(type='str')
    return spec


class Item(object):
    """One declared item: its Declaration (``desired``), its preset, and where its secret goes."""

    def __init__(self, index, desired, preset=None, secret_file_from_dir=False):
        self.index = index
        self.desired = desired
        self.preset = preset
        self.secret_file = desired.client_secret_file
        self.secret_file_from_dir = secret_file_from_dir

    @property
    def name(self):
        return self.desired.name

    @property
    def where(self):
        return 'clients[%d]' % self.index


def declare_all(items, secrets_dir, rotation_grace_hours=None):
    """Every item validated (a Declaration each), before any request. One problem raises it as it is;
    several raise one error that lists them all. ``rotation_grace_hours``: the task's."""
    problems, declared, names, files = [], [], {}, {}
    for index, params in enumerate(items):
        where = 'clients[%d]' % index
        label = "%s '%s' (preset %s)" % (where, params.get('name'), params['preset']) if params.get('preset') else (
            '%s (%s)' % (where, params['name']) if params.get('name') else where)
        found = []
        if params.get('name') in names:
            found.append(ConfigurationError(
                '%s: the name is declared more than once: %r is already declared by clients[%d]'
                % (label, params['name'], names[params['name']]), option=where + '.name', hint='declare each integration once'))
        names.setdefault(params.get('name'), index)
        if params.get('preset') is not None:
            params, preset_problems = rules.expand_preset(params, label)
            found.extend(ConfigurationError(text, option=where) for text in preset_problems)
        if found:
            problems.extend(found)
            continue
        try:
            desired = integrations.declare(params, rotation_grace_hours)
        except ConfigurationError as exc:
            problems.append(exc.within(where, label=label))
            continue
        from_dir = bool(secrets_dir and not desired.client_secret_file and desired.present)
        if from_dir:
            # a file of an integration deleted since is kept aside (issue 15)
            desired = desired.replace(client_secret_file=secret_file_of(secrets_dir, desired.name), keep_stale_secret_file=True)
        path = desired.client_secret_file
        if path and path in files:
            problems.append(ConfigurationError('%s: its secrets file %s would be the same as the one of %r (rename one of them)'
                                               % (label, path, files[path]), option=where + '.client_secret_file',
                                               hint='give each integration its own file'))
            continue
        if path:
            files[path] = desired.name
        declared.append(Item(index, desired, params.get('preset'), from_dir))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigurationError('%d problem(s), nothing was sent to Creatio: %s'
                                 % (len(problems), '; '.join(p.message for p in problems)), option='clients')
    return declared


def secret_file_of(secrets_dir, name):
    """The file of the secrets folder for integration ``name``: rules.secret_file_name, or the file
    the rule of earlier versions named when that one is there and holds this integration's secret
    (and the new one is not): its stale or partial file is then still recognised."""
    path = os.path.join(secrets_dir, rules.secret_file_name(name))
    legacy = os.path.join(secrets_dir, rules.legacy_secret_file_name(name))
    if legacy != path and not os.path.lexists(path) and (secret_file.json_object_in(legacy) or {}).get('name') == name:
        return legacy
    return path


def concerns_one_integration(exc):
    """Whether a failure is about one integration (its input, its record, its lost answer), so
    that a batch can go on with the others; anything else (login, TLS, transport, the site's
    feature switch or permissions, the cache) would fail every other integration the same way."""
    if isinstance(exc, (ConfigurationError, LostAnswerError)):
        return True
    if isinstance(exc, BusinessError):
        return not exc.site_wide
    return False


def apply_many(run):
    """The service of creatio_oauth_clients."""
    secrets_dir = run.params.get('secrets_dir')
    if secrets_dir:
        secrets_dir = os.path.realpath(secrets_dir)
    declared = declare_all(run.params['clients'], secrets_dir, run.params.get('rotation_grace_hours'))
    options = Options.from_params(run.params)
    rotation.check_store(run, [i.desired for i in declared], where=lambda n: declared[n].where)
    stop_reason = _read_ahead(run, declared, options)
    users = {}
    if stop_reason is None:
        _check_secret_files(run, declared)
        _check_secret_store(run, declared)
        # Users by name: every one found (or created) before the first integration is written.
        users = resolve_system_users(run, [i.desired for i in declared], where=lambda n: declared[n].where)
        for item in declared:
            item.desired = integrations.with_system_user(item.desired, users)
        if run.params.get('verify_tokens'):
            _check_token_url(run, declared)
    if secrets_dir and any(i.secret_file_from_dir for i in declared) and not os.path.isdir(secrets_dir):
        if run.check_mode:
            for item in declared:  # no folder yet, so no file in it: nothing for check mode to refuse
                if item.secret_file_from_dir:
                    item.desired = item.desired.replace(client_secret_file=None)
        else:
            _make_private_folder(secrets_dir)
    created = []
    results, stop_reason = _apply_items(run, declared, stop_reason, users, created, options)
    # Once more, at the end: a rival's AddClient can have landed after an item's read back.
    integrations.settle_own_creations(run, created, dict((r['name'], r) for r in results))
    token_errors = _verify_tokens(run, declared, results) if run.params.get('verify_tokens') else {}
    return _outcome(run, declared, results, stop_reason, token_errors, secrets_dir)


def _read_ahead(run, declared, options):
    """One OData read for every lookup; the reason to stop when it fails for every item."""
    try:
        run.reader.read_ahead([integrations.lookup_query(run, item.desired, options) for item in declared])
    except CreatioError as exc:
        if concerns_one_integration(exc):
            raise
        return run.scrub(exc).full_message()  # reads after "not attempted:" and after "because"
    return None


def _check_token_url(run, declared):
    """Before any write: every client credentials integration this run would create can be verified."""
    if run.client.token_url():
        return
    creating = [item.name for item in declared if item.desired.present
                and item.desired.grant_type == 'client_credentials' and _would_create(run, item)]
    if creating:
        # A published endpoint that is refused (not on the site or its identity service) is named as such.
        run.client.token_url(required_by='verify_tokens (to check %s, which this run would create; nothing was written '
                                         'to Creatio)' % ', '.join(creating))
        raise ConfigurationError(
            'verify_tokens needs the token URL of the identity service to check %s, which this run would create, and it is '
            'unknown: creatio_identity_url is not set, %s publishes no OpenID configuration (Creatio before 8.3), and it is '
            'not a Creatio cloud site' % (', '.join(creating), run.site),
            option='creatio_identity_url',
            hint='set creatio_identity_url (or CREATIO_IDENTITY_URL) to the OAuth20IdentityServerUrl system setting; '
                 'nothing was written to Creatio')


def _would_create(run, item):
    """Whether neither the read ahead (or, without one, the facts cache) knows the integration of ``item``."""
    cached = run.cache.get(run.site, item.name) or {}
    snapshot = run.reader.snapshot
    if snapshot is not None:
        return not any(r.name == item.name or r.has_client_id(cached.get('client_id')) for r in snapshot.records)
    if cached.get('client_id'):
        return False
    # Creatio refused the read and the cache does not know it: apply creates it only when told to (create_when_unreadable)
    return run.reader.readable is not False or bool(item.desired.create_when_unreadable)


def _check_secret_files(run, declared):
    """Before the first write: the secret file of every integration this run would create can be
    written (secret_file.check_can_keep); every problem is reported at once."""
    problems = []
    for item in declared:
        if item.desired.present and item.secret_file and _would_create(run, item):
            try:
                secret_file.check_can_keep(item.secret_file, run.check_mode)
            except ConfigurationError as exc:
                problems.append(exc.within(item.where, label='%s (%s)' % (item.where, item.name)))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigurationError('%d problem(s), nothing was written to Creatio: %s'
                                 % (len(problems), '; '.join(p.message for p in problems)), option='clients')


def _check_secret_store(run, declared):
    """Before the first write: the secret store takes the secret of every integration this run would create."""
    creating = [item for item in declared if item.desired.present and _would_create(run, item)]
    secret_delivery.check_before_creating(run, [(item.name, (run.cache.get(run.site, item.name) or {}).get('client_id'))
                                                for item in creating])


def _apply_items(run, declared, stop_reason, users, created=None, options=None):
    """[result per item], and why the batch stopped (None when it did not). ``created``: see integrations.apply."""
    results = []
    for item in declared:
        if stop_reason is not None:
            results.append({'name': item.name, 'changed': False, 'failed': True, 'attempted': False, 'operations': [],
                            'msg': 'not attempted: %s' % stop_reason})
            continue
        try:
            result = integrations.apply(run, item.desired, users, created, options)
            result['failed'] = False
        except CreatioError as exc:
            if isinstance(exc, ConfigurationError):
                exc.within(item.where, say_where=False)  # the result names the item
            result = error_result(exc, run)
            result.setdefault('operations', [])
            result['failed'] = True
            if not concerns_one_integration(exc):
                stop_reason = 'the failure of %s would fail them too' % item.name
        results.append(dict(result, name=item.name))
    return results, stop_reason


def _verify_tokens(run, declared, results):
    """{name: error message} of the new client credentials integrations that got no token; each
    checked result gets ``verified``."""
    errors = {}
    for item, result in zip(declared, results):
        secret = result.get('client_secret') or secret_delivery.new_secret(run, item.name)
        if result['failed'] or not secret or result['client'].get('grant_type') != 'client_credentials':
            continue
        try:
            check_token(run, result['client']['client_id'], secret, item.name)
            result['verified'] = True
        except CreatioError as exc:
            result['verified'] = False
            errors[item.name] = exc.full_message()
    return errors


def _outcome(run, declared, results, stop_reason, token_errors, secrets_dir):
    diffs = []
    for result in results:
        diff = result.pop('diff', None)
        if diff is not None and result['changed']:
            diffs.append(dict(diff, before_header=result['name'], after_header=result['name']))
    outcome = {'changed': any(r['changed'] for r in results), 'clients': results}
    if run.diff:
        outcome['diff'] = diffs
    failed = [r for r in results if r['failed']]
    failures, shared_hint = _failure_texts([r for r in failed if r.get('attempted', True)])
    not_attempted = len(failed) - len([r for r in failed if r.get('attempted', True)])
    if failed or token_errors:
        parts = []
        if failed:
            # the same count as the summary's "failed": the items not attempted are among them
            parts.append('%d of %d integration(s) failed%s%s' % (len(failed), len(results), ': ' if failures else '',
                                                                 ' | '.join(failures)))
        if not_attempted:
            parts.append('%s not attempted, because %s' % ('all of them' if not_attempted == len(failed) else
                                                           '%d of them' % not_attempted, _as_clause(stop_reason)))
        if shared_hint:
            parts.append('hint (for each of them): %s' % shared_hint.rstrip('.'))
        if token_errors:
            parts.append('%d new integration(s) got no token from the identity service: %s'
                         % (len(token_errors), ' | '.join('%s: %s' % item for item in token_errors.items())))
        outcome['failed'] = True
        outcome['msg'] = '; '.join(parts)
    outcome['integrations'], outcome['summary'] = report.build(declared, results, run.check_mode, secrets_dir)
    return outcome


def _failure_texts(failed):
    """(['name: message'], hint) of the items that failed: a hint that several of them share is given
    once (the hint, else None), not after each; each item's own msg then names the first that has it."""
    hints = [(r.get('error') or {}).get('hint') for r in failed]
    shared = next((h for h in hints if h and hints.count(h) > 1), None)
    texts, first = [], None
    for result, hint in zip(failed, hints):
        text = result['msg']
        if shared and hint == shared:
            text = _without_hint(text, shared)
            if first is None:
                first = result['name']
            else:
                result['msg'] = '%s hint: the same as for %s.' % (text, first)
        texts.append('%s: %s' % (result['name'], text))
    return texts, shared


def _as_clause(text):
    """A message as it reads after "because": an article that opens it in lower case ("The identity service
    refused ..."); a name (Creatio, Login, OData) stays as it is."""
    match = re.match(r'(The|A|An) ', text)
    return text[:1].lower() + text[1:] if match else text


def _without_hint(message, hint):
    """A full_message without its closing "hint: ..." (see _errors.CreatioError.full_message)."""
    tail = '. hint: %s.' % hint.rstrip('.')
    return message[:-len(tail)] + '.' if message.endswith(tail) else message


def _make_private_folder(path):
    try:
        os.makedirs(path, 0o700)
    except OSError as exc:
        raise ConfigurationError('secrets_dir %s cannot be created (%s)' % (path, exc.strerror), option='secrets_dir')
