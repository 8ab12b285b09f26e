# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The ``secret_store`` option at work in
creatio_oauth_client and creatio_oauth_clients: one store per task, checked before anything is
written to Creatio, the new secret delivered to it from Creatio's answer inside the module process,
and, when the store fails after AddClient, the secret kept beside the facts cache (_secret_file's
kept copies) until a later run delivers it.

The store is found on the run as ``run.secret_delivery`` (None without the option), so that the
integration service needs no new parameters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, CreatioError, unexpected_error
from ansible_collections.creatio.oauth.plugins.module_utils._records import client_key, same_client
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import (
    SecretStoreConflictError, secret_document, secret_store_from_option, site_of)

SHARED_PATH_HINT = ('put {site} in secret_store.path (e.g. creatio/{site}/{name}), so that each site\'s integration has its '
                    'own document; then re-run')


def with_secret_store(service):
    """``service`` (a module's service) with the run's secret store: opened (validated, nothing sent)
    before the service starts, every error scrubbed of its credentials, closed at the end."""
    def run_with_store(run):
        open_delivery(run)
        try:
            return service(run)
        except CreatioError as exc:
            raise scrub(run, exc)
        except Exception as exc:  # pylint: disable=broad-except
            # As run_module does, but scrubbed of the store's credentials too (a Vault token from VAULT_TOKEN is no no_log value).
            raise scrub(run, unexpected_error(exc))
        finally:
            close_delivery(run)
    return run_with_store


def new_secret(run, name):
    """The secret this run got for integration ``name`` and delivered to the store (None without one)."""
    delivery = getattr(run, 'secret_delivery', None)
    return delivery.new_secrets.get(name) if delivery is not None else None


def check_before_creating(run, names_and_replaced):
    """A batch, before its first write: the store takes the secret of each integration it would create
    (``names_and_replaced``: (name, the client id it replaces or None)). One login for all."""
    delivery = getattr(run, 'secret_delivery', None)
    if delivery is None:
        return
    for name, replaced in names_and_replaced:
        delivery.check_before_create(name, replaced)


def withdraw_after_giving_way(run, name, client_id, survivor_client_id):
    """This run created integration ``name`` (client ``client_id``), delivered its secret, then gave way to
    another run's creation (client ``survivor_client_id``, the one that stays) and deleted its own: what it put
    into the store is taken back while the store still holds that deleted client (and, in Vault, the very
    version this run wrote); a document of another client, the survivor's among them, is never touched.
    Returns the result's new ``secret_store`` entry, or None without a store (or when nothing was delivered)."""
    delivery = getattr(run, 'secret_delivery', None)
    if delivery is None:
        return None
    return delivery.withdraw(name, client_id, survivor_client_id)


def secret_places(params):
    """The options besides ``secret_store`` that say where a secret goes, as given (for the refusal)."""
    given = []
    if params.get('client_secret_file'):
        given.append('client_secret_file')
    if params.get('secrets_dir'):
        given.append('secrets_dir')
    for index, item in enumerate(params.get('clients') or []):
        if isinstance(item, dict) and item.get('client_secret_file'):
            given.append('clients[%d].client_secret_file' % index)
    return given


def open_delivery(run):
    """The run's SecretDelivery (also kept as ``run.secret_delivery``), None without ``secret_store``.
    Validates the option and refuses a second place for the secret; sends nothing."""
    option = run.params.get('secret_store')
    run.secret_delivery = None
    if not option:
        return None
    others = secret_places(run.params)
    if others:
        raise ConfigurationError(
            'secret_store and %s both say where the client secret goes: give one place for it' % ', '.join(others),
            option='secret_store',
            hint='remove %s (with secret_store, the secret goes to the store only; a files store: secret_store.type files)'
                 % ' and '.join(others))
    store = secret_store_from_option(option, timeout=run.params.get('request_timeout') or 30, run_command=run.module.run_command)
    run.secret_delivery = SecretDelivery(run, store)
    return run.secret_delivery


def scrub(run, exc):
    """``exc`` without the store's credentials and the secrets it saw (the run's own are scrubbed at the exit)."""
    delivery = getattr(run, 'secret_delivery', None)
    if delivery is not None:
        run.scrub(exc, extra_secrets=delivery.secrets_known())
    return exc


def close_delivery(run):
    """Close the store (once) and pass its warnings on."""
    delivery = getattr(run, 'secret_delivery', None)
    if delivery is None:
        return
    run.secret_delivery = None
    delivery.close()
    for warning in delivery.store.warnings:
        run.warn(warning)


class SecretDelivery(object):
    """One store for one task: what was checked, delivered and kept, per integration name."""

    def __init__(self, run, store):
        self.run = run
        self.store = store
        self.site = site_of(run.site)
        self.held = {}  # name -> client id the store held when checked before the first write
        self.held_version = {}  # name -> the version of that document (stores with versions), None for none
        self.new_secrets = {}  # name -> the secret this run got from AddClient (scrubbed; for verify_tokens)
        self.done = {}  # name -> the result's secret_store entry
        self.safe = set()  # names whose new secret is in the store or in a kept copy

    def path(self, name):
        return self.store.location(self.site, name)

    def secrets_known(self):
        return list(self.store.secrets()) + list(self.new_secrets.values())

    def close(self):
        self.store.close()

    # --- before the first write --------------------------------------------------------------------
    def check_before_create(self, name, replaced_client_id=None):
        """The store takes a document for ``name`` (which this run would create; ``replaced_client_id``:
        the client it replaces, when Creatio lost the old one). Reads only; once per name."""
        if name in self.held:
            return
        path = self.path(name)
        self.store.check_usable(path)
        holder = self.store.current_holder(path)
        held = holder['client_id'] if holder else None
        not_created = 'integration %r was not created (nothing was written to Creatio)' % name
        owned = held is not None and client_key(held) == client_key(replaced_client_id)
        if owned or (held is not None and self.foreign(name, holder, site_only=True)):
            self.refuse_foreign(path, name, holder, not_created, owned=owned)
        if held is not None and client_key(held) != client_key(replaced_client_id):
            raise SecretStoreConflictError(
                '%s holds the secret of client id %s already; integration %r was not created (nothing was written to Creatio)'
                % (self.store.describe(path), held, name), store=self.store.describe(path),
                hint='a new integration\'s secret never replaces another client\'s: move that document away, or point '
                     'secret_store.path elsewhere')
        self.held[name] = held
        self.held_version[name] = holder.get('version') if holder else None

    def foreign(self, name, holder, owned=False, site_only=False):
        """Why the document ``holder`` (SecretStore.current_holder) is not one of integration ``name`` on this
        run's site, or None when it is: its name and its site must both be this integration's. ``owned``: it
        holds the client id this site gave the integration (the one a recreation or a rotation replaces), proof
        enough where it does not say its name or site (a file written by client_secret_file has no creatio_url,
        a document seeded by hand may have neither); what it does say must still match. ``site_only``: only
        a document that names another site counts."""
        if not holder:
            return None
        if holder.get('creatio_url') and site_of(holder['creatio_url']) != self.site:
            return 'the document of integration %r of another site, %s' % (holder.get('name'), holder['creatio_url'])
        if site_only:
            return None
        if holder.get('name') and holder['name'] != name:
            return 'the document of another integration, %r' % holder['name']
        if not owned and (not holder.get('name') or not holder.get('creatio_url')):
            return 'a document that does not say which integration and site it belongs to (no %s)' % ' and no '.join(
                key for key in ('name', 'creatio_url') if not holder.get(key))
        return None

    def refuse_foreign(self, path, name, holder, outcome, owned=False):
        """Raises when ``path`` holds a document of another site or integration (see foreign): never written over."""
        reason = self.foreign(name, holder, owned=owned)
        if reason is None:
            return
        shared = 'of another site' in reason and '{site}' not in self.store.config.get('path', '')
        raise SecretStoreConflictError(
            '%s holds %s (client id %s), not one of integration %r of %s: it is never written over; %s%s'
            % (self.store.describe(path), reason, holder['client_id'], name, self.site, outcome,
               ' (secret_store.path has no {site}, so the sites share one document per name)' if shared else ''),
            store=self.store.describe(path),
            hint=SHARED_PATH_HINT if shared else ('check what that document is for: move it away, or point secret_store.path '
                                                  'elsewhere (secret_store.path with {site} and {name} gives each its own)'))

    # --- the new secret -----------------------------------------------------------------------------
    def deliver_new(self, name, client_id, secret, as_checked=False):
        """Right after AddClient: the secret into the store, or (when the store fails) into a kept copy.
        ``as_checked`` (a rotation): written only over the very version check_before_create read (stores with
        versions), so that another run's delivery or fence in between wins (SecretStore.deliver)."""
        if not secret:
            return
        self.new_secrets[name] = secret
        path = self.path(name)
        document = secret_document(name, client_id, secret, self.run.site, token_url=self._token_url())
        try:
            expected = self.held_version.get(name) if as_checked else None
            if expected is not None:
                stored = self.store.deliver(path, document, previous_client_id=self.held.get(name), expected_version=expected)
            else:
                stored = self.store.deliver(path, document, previous_client_id=self.held.get(name))
        except Exception as exc:  # pylint: disable=broad-except
            # Whatever failed (an odd answer of the store included), the one copy of the new secret is kept.
            if not isinstance(exc, CreatioError):
                exc = unexpected_error(exc)
            self.run.scrub(exc, extra_secrets=self.secrets_known())
            folder = secret_file.kept_folder(self.run.cache.path)
            before = set(secret_file.kept_secret_files(folder, self.run.site, name))
            error = secret_file.keep_after_failure(self.run, folder, 'secret_store %s' % self.store.describe(path), document, exc)
            if set(secret_file.kept_secret_files(folder, self.run.site, name)) - before:
                self.safe.add(name)
            raise error
        self.safe.add(name)
        self.done[name] = _entry(stored)

    def _token_url(self):
        # Only shown in the document: a site whose OpenID configuration cannot be read must not cost the secret.
        try:
            return self.run.client.token_url()
        except CreatioError:
            return None

    def hide_secret(self, name, exc):
        """A task that failed after AddClient: its result shows the secret only when neither the store nor
        a kept copy has it (its only copy then)."""
        if name in self.safe:
            exc.secret = None

    # --- an integration that exists -----------------------------------------------------------------
    def settle(self, name, client_id, recover=None):
        """For an integration Creatio has (client ``client_id``): a kept copy of its secret is delivered
        and removed; otherwise the store is only read, and where it lacks that client's secret,
        ``recover(save, destination)`` (see _integrations._read_back_into) may read it back from Creatio
        into it. Returns True when something was (or, in check mode, would be) delivered or removed."""
        path = self.path(name)
        folder = secret_file.kept_folder(self.run.cache.path)
        changed = False
        for kept in secret_file.kept_secret_files(folder, self.run.site, name):
            document = secret_file.json_object_in(kept) or {}
            if not document.get('client_id') or not document.get('client_secret'):
                self.run.warn('%s (a kept client secret of integration %r) cannot be read as one: left as it is' % (kept, name))
                continue
            if client_key(document['client_id']) != client_key(client_id):
                self.run.warn('%s holds the client secret of client id %s of integration %r, which Creatio no longer has: '
                              'removed (worth nothing)' % (kept, document.get('client_id'), name))
                if not self.run.check_mode:
                    _remove(kept)
                changed = True
                continue
            self.new_secrets[name + '\n' + kept] = document['client_secret']  # scrubbed from errors
            if self.run.check_mode:
                self.done[name] = {'location': self.store.describe(path), 'changed': True}
                return True
            holder = self.store.current_holder(path)
            held = holder['client_id'] if holder else None
            if client_key(held) != client_key(client_id):
                self.refuse_foreign(path, name, holder, 'the kept copy %s was left where it is' % kept)
            # The kept secret is the one of the client Creatio has now: what the store holds there of this integration is stale.
            stored = self.store.deliver(path, document, previous_client_id=held if client_key(held) != client_key(client_id) else None)
            _remove(kept)
            self.done[name] = _entry(stored)
            self.run.warn('the client secret of integration %r, kept in %s by a run whose secret store failed, is now in %s; '
                          'the kept copy was removed' % (name, kept, self.store.describe(path)))
            return True
        if changed or name in self.done:
            return changed
        try:
            holder = self.store.current_holder(path)
        except CreatioError as exc:
            self.run.warn('%s could not be read to check it holds the secret of integration %r: %s'
                          % (self.store.describe(path), name, self.run.scrub(exc, extra_secrets=self.secrets_known()).full_message()))
            return False
        held = holder['client_id'] if holder else None
        if client_key(held) != client_key(client_id):
            # Before anything is read back: a document of another site or integration is never written over.
            self.refuse_foreign(path, name, holder, 'nothing was written there')
        self.done[name] = {'location': self.store.describe(path), 'changed': False}
        if client_key(held) != client_key(client_id) and recover is not None:
            # recover warns itself when it is not asked to read the secret back (recover_secret), naming the way out
            if not recover(lambda document: self._deliver_read_back(path, name, document, held), self.store.describe(path)):
                return False
            if self.run.check_mode:
                self.done[name] = {'location': self.store.describe(path), 'changed': True}
            return True
        if client_key(held) != client_key(client_id):
            self.run.warn('%s holds %s, not the secret of integration %r (client id %s); Creatio shows a secret only when it '
                          'creates the integration, so this run cannot put it there: to get a new one, delete the integration '
                          '(state: absent) and re-run' % (self.store.describe(path), 'client id %s' % held if held else 'nothing',
                                                          name, client_id))
        return False

    def _deliver_read_back(self, path, name, document, held):
        # What the store holds there (if anything) is of a client Creatio no longer has under this name: replaced.
        self.new_secrets[name + '\nread back'] = document['client_secret']  # scrubbed from errors
        self.done[name] = _entry(self.store.deliver(path, document, previous_client_id=held))

    def forget_kept(self, name, client_id):
        """Remove the kept copies of the secret of ``client_id`` (a client this run deleted again: worth nothing)."""
        folder = secret_file.kept_folder(self.run.cache.path)
        for kept in secret_file.kept_secret_files(folder, self.run.site, name):
            if same_client((secret_file.json_object_in(kept) or {}).get('client_id'), client_id):
                _remove(kept)

    # --- after giving way to another run's creation -----------------------------------------------------
    def withdraw(self, name, client_id, survivor_client_id):
        """See withdraw_after_giving_way."""
        path = self.path(name)
        where = self.store.describe(path)
        self.forget_kept(name, client_id)
        written = self.done.get(name) or {}
        entry = {'location': where, 'changed': bool(written.get('changed')), 'gave_way': True}
        try:
            withdrawn = self.store.withdraw(path, client_id, version=written.get('version') if written.get('changed') else None)
        except CreatioError as exc:
            self.run.warn('integration %r: this run gave way to another run\'s creation (client id %s) and deleted its own (client '
                          'id %s), but %s could not be checked or cleared of the deleted client\'s secret: %s; a re-run with '
                          'recover_secret, or the other run, puts the right one there'
                          % (name, survivor_client_id, client_id, where,
                             self.run.scrub(exc, extra_secrets=self.secrets_known()).full_message()))
            self.done[name] = entry
            return entry
        if withdrawn:
            entry.update(changed=True, withdrawn=client_id)
            self.run.warn('integration %r: this run gave way to another run\'s creation (client id %s, the one that stays) and '
                          'deleted its own (client id %s); the secret it had put into %s was taken back. The secret of the '
                          'one that stays is delivered there by the other run (or, when that run could not write it, from '
                          'its kept copy by the next run; a re-run with recover_secret reads it back on Creatio 8.1)'
                          % (name, survivor_client_id, client_id, where))
        else:
            self.run.warn('integration %r: this run gave way to another run\'s creation (client id %s, the one that stays) and '
                          'deleted its own (client id %s); %s does not hold the deleted client\'s secret (it was left as it '
                          'is): the secret of the one that stays is delivered there by the other run'
                          % (name, survivor_client_id, client_id, where))
        if name in self.new_secrets:  # the deleted client's: no token check with it, still scrubbed from errors
            self.new_secrets[name + '\ngave way'] = self.new_secrets.pop(name)
        self.done[name] = entry
        return entry

    def result_of(self, name, creating=False):
        """The result's ``secret_store`` entry for ``name`` (None when the store was not involved)."""
        if name in self.done:
            return self.done[name]
        if creating and self.run.check_mode:
            return {'location': self.store.describe(self.path(name)), 'changed': True}
        return None


def _entry(stored):
    entry = {'location': stored.get('location'), 'changed': bool(stored.get('changed')), 'version': stored.get('version')}
    if stored.get('kept_as'):
        entry['kept_as'] = stored['kept_as']
    return entry


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
