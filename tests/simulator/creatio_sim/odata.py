"""A small, strict OData 4 reader: entity descriptions, $filter / $select / $orderby parsing and
evaluation, and the CSDL document served at ``{api}/odata/$metadata``.

Supported (everything else is refused with HTTP 400):

- ``$filter``: comparisons ``<column> eq|ne|gt|ge|lt|le <literal>``, the column optionally wrapped in
  ``tolower(...)`` / ``toupper(...)``; ``contains|startswith|endswith(<column>, '<text>')``; joined
  with ``and`` / ``or`` (``and`` binds tighter), ``not``, and parentheses. Literals: ``'text'``
  (``''`` is a quote), GUIDs unquoted (OData 4), integers, ``true``/``false``, ``null`` and
  date-times such as ``2024-01-15T08:00:00Z``. Types are checked like OData does: a GUID column
  compared with a quoted text is refused.
- ``$select`` (comma list), ``$orderby`` (``Column [asc|desc]``, comma list), ``$top``, ``$skip``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from xml.sax.saxutils import escape

GUID = 'Edm.Guid'
STRING = 'Edm.String'
BOOLEAN = 'Edm.Boolean'
INT32 = 'Edm.Int32'
DATETIME = 'Edm.DateTimeOffset'
NULL = 'null'

NAMESPACE = 'Terrasoft.Configuration.OData'
COMPARISONS = ('eq', 'ne', 'gt', 'ge', 'lt', 'le')
STRING_PREDICATES = ('contains', 'startswith', 'endswith')
CASE_FUNCTIONS = ('tolower', 'toupper')
OPERATOR_KIND = {'eq': 'Equal', 'ne': 'NotEqual', 'gt': 'GreaterThan', 'ge': 'GreaterThanOrEqual',
                 'lt': 'LessThan', 'le': 'LessThanOrEqual'}


class ODataError(Exception):
    """A refused query: ``key`` names the message (see messages.CATALOGUE), ``values`` fill it."""

    def __init__(self, key, **values):
        super().__init__(key)
        self.key = key
        self.values = values


class Entity:
    """One entity set: its columns ``[(name, edm_type, nullable)]``, the secure (never readable)
    columns, and its lookups ``{navigation name: (foreign key column, target entity set)}``."""

    def __init__(self, name, columns, secure=(), lookups=None):
        self.name = name
        self.columns = tuple(columns)
        self.types = {c[0]: c[1] for c in self.columns}
        self.secure = tuple(secure)
        self.lookups = dict(lookups or {})

    @property
    def readable(self):
        """Column names a reader may select (all but the secure ones), in schema order."""
        return tuple(c[0] for c in self.columns if c[0] not in self.secure)

    def column(self, name):
        """Check that ``name`` is a readable column; return its EDM type."""
        if name not in self.types:
            raise ODataError('odata_no_property', name=name, entity=self.name)
        if name in self.secure:
            raise ODataError('odata_secure', name=name, entity=self.name)
        return self.types[name]


def audit_columns():
    """The columns every Creatio entity has."""
    return [('Id', GUID, False), ('CreatedOn', DATETIME, True), ('CreatedById', GUID, True),
            ('ModifiedOn', DATETIME, True), ('ModifiedById', GUID, True)]


# ---------------------------------------------------------------- $filter

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![\w-]))
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<number>-?\d+(?![\w.]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),])
""", re.VERBOSE)


def _tokenize(text):
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match:
            raise ODataError('odata_syntax', pos=pos, text=text)
        kind = match.lastgroup
        if kind != 'ws':
            tokens.append((kind, match.group(kind), pos))
        pos = match.end()
    tokens.append(('end', '', len(text)))
    return tokens


def parse_datetime(value):
    """An OData date-time literal (or a stored value) as an aware datetime."""
    return datetime.fromisoformat(value.replace('Z', '+00:00'))


class _Parser:
    """Recursive descent over the tokens; builds a tree of tuples, checking names and types."""

    def __init__(self, entity, text):
        self.entity = entity
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index]

    def take(self):
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token=None):
        token = token or self.peek()
        raise ODataError('odata_syntax', pos=token[2], text=self.text)

    def keyword(self, word):
        kind, value, _pos = self.peek()
        if kind == 'ident' and value == word:
            self.index += 1
            return True
        return False

    def expect(self, punct):
        token = self.take()
        if token[0] != 'punct' or token[1] != punct:
            self.fail(token)

    def parse(self):
        tree = self.parse_or()
        if self.peek()[0] != 'end':
            self.fail()
        return tree

    def parse_or(self):
        left = self.parse_and()
        while self.keyword('or'):
            left = ('or', left, self.parse_and())
        return left

    def parse_and(self):
        left = self.parse_unary()
        while self.keyword('and'):
            left = ('and', left, self.parse_unary())
        return left

    def parse_unary(self):
        if self.keyword('not'):
            return ('not', self.parse_unary())
        kind, value, _pos = self.peek()
        if kind == 'punct' and value == '(':
            self.take()
            inner = self.parse_or()
            self.expect(')')
            return inner
        if kind == 'ident' and value in STRING_PREDICATES:
            return self.parse_predicate()
        return self.parse_comparison()

    def parse_predicate(self):
        func = self.take()[1]
        self.expect('(')
        column, case, col_type = self.parse_column()
        if col_type != STRING:
            raise ODataError('odata_types', left=col_type, right=STRING, op=func)
        self.expect(',')
        literal_type, literal = self.parse_literal()
        if literal_type != STRING:
            raise ODataError('odata_types', left=col_type, right=literal_type, op=func)
        self.expect(')')
        return ('func', func, column, case, literal)

    def parse_column(self):
        kind, value, _pos = self.peek()
        if kind != 'ident':
            self.fail()
        self.take()
        if value in CASE_FUNCTIONS:
            self.expect('(')
            column, _case, col_type = self.parse_column()
            self.expect(')')
            if col_type != STRING:
                raise ODataError('odata_types', left=col_type, right=STRING, op=value)
            return column, value, col_type
        if value in ('and', 'or', 'not', 'true', 'false', 'null') or value in COMPARISONS:
            self.fail((kind, value, _pos))
        return value, None, self.entity.column(value)

    def parse_comparison(self):
        column, case, col_type = self.parse_column()
        kind, op, _pos = self.take()
        if kind != 'ident' or op not in COMPARISONS:
            self.fail((kind, op, _pos))
        literal_type, literal = self.parse_literal()
        if literal_type not in (NULL, col_type):
            raise ODataError('odata_types', left=col_type, right=literal_type, op=OPERATOR_KIND[op])
        if literal_type == NULL and op not in ('eq', 'ne'):
            raise ODataError('odata_types', left=col_type, right='null', op=OPERATOR_KIND[op])
        if col_type == BOOLEAN and op not in ('eq', 'ne'):
            raise ODataError('odata_types', left=col_type, right=literal_type, op=OPERATOR_KIND[op])
        return ('cmp', op, column, case, literal)

    def parse_literal(self):
        kind, value, pos = self.take()
        if kind == 'string':
            return STRING, value[1:-1].replace("''", "'")
        if kind == 'guid':
            return GUID, str(uuid.UUID(value))
        if kind == 'number':
            return INT32, int(value)
        if kind == 'datetime':
            try:
                return DATETIME, parse_datetime(value)
            except ValueError:
                self.fail((kind, value, pos))
        if kind == 'ident' and value in ('true', 'false'):
            return BOOLEAN, value == 'true'
        if kind == 'ident' and value == 'null':
            return NULL, None
        return self.fail((kind, value, pos))


def parse_filter(entity, text):
    """The parsed $filter of ``entity`` (raise ODataError)."""
    return _Parser(entity, text).parse()


def _comparable(value, col_type, case, insensitive):
    if value is None:
        return None
    if col_type == DATETIME and isinstance(value, str):
        return parse_datetime(value)
    if col_type == GUID:
        return str(value).lower()
    if col_type == STRING:
        if case == 'tolower':
            value = value.lower()
        elif case == 'toupper':
            value = value.upper()
        if insensitive:
            value = value.casefold()
    return value


def matches(tree, row, entity, insensitive=False):
    """Evaluate a parsed $filter against one row (a dict of column values). ``insensitive``
    compares texts without regard to case (an MSSQL site's default collation)."""
    node = tree[0]
    if node == 'or':
        return matches(tree[1], row, entity, insensitive) or matches(tree[2], row, entity, insensitive)
    if node == 'and':
        return matches(tree[1], row, entity, insensitive) and matches(tree[2], row, entity, insensitive)
    if node == 'not':
        return not matches(tree[1], row, entity, insensitive)
    if node == 'func':
        _node, func, column, case, literal = tree
        value = _comparable(row.get(column), STRING, case, insensitive)
        needle = _comparable(literal, STRING, None, insensitive)
        if value is None:
            return False
        return {'contains': needle in value, 'startswith': value.startswith(needle),
                'endswith': value.endswith(needle)}[func]
    _node, op, column, case, literal = tree
    col_type = entity.types[column]
    left = _comparable(row.get(column), col_type, case, insensitive)
    right = _comparable(literal, col_type, None, insensitive)
    if op == 'eq':
        return left == right
    if op == 'ne':
        return left != right
    if left is None or right is None:
        return False
    return {'gt': left > right, 'ge': left >= right, 'lt': left < right, 'le': left <= right}[op]


# ---------------------------------------------------------------- $select, $orderby

def parse_select(entity, text):
    """Column names of a $select (raise ODataError)."""
    columns = [c.strip() for c in text.split(',')]
    if not all(columns):
        raise ODataError('odata_syntax', pos=len(text), text=text)
    for column in columns:
        entity.column(column)
    return columns


def parse_orderby(entity, text):
    """[(column, descending)] of an $orderby (raise ODataError)."""
    order = []
    for part in text.split(','):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ('asc', 'desc')):
            raise ODataError('odata_syntax', pos=0, text=text)
        entity.column(words[0])
        order.append((words[0], len(words) == 2 and words[1] == 'desc'))
    return order


def sort_rows(rows, order, entity):
    """Rows sorted by an $orderby (nulls first, as SQL Server and Creatio do)."""
    for column, descending in reversed(order):
        col_type = entity.types[column]

        def key(row, column=column, col_type=col_type):
            value = _comparable(row.get(column), col_type, None, False)
            return (value is not None, value if value is not None else 0)
        rows = sorted(rows, key=key, reverse=descending)
    return rows


# ---------------------------------------------------------------- $metadata

def metadata_document(entities):
    """The CSDL (OData 4 XML) describing ``entities`` (a list of Entity)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
             '  <edmx:DataServices>',
             f'    <Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">']
    names = {e.name for e in entities}
    for entity in entities:
        lines.append(f'      <EntityType Name="{escape(entity.name)}">')
        lines.append('        <Key><PropertyRef Name="Id"/></Key>')
        for name, edm_type, nullable in entity.columns:
            null = '' if nullable else ' Nullable="false"'
            lines.append(f'        <Property Name="{escape(name)}" Type="{edm_type}"{null}/>')
        for nav, (fk_column, target) in entity.lookups.items():
            if target in names:
                lines.append(f'        <NavigationProperty Name="{escape(nav)}" Type="{NAMESPACE}.{escape(target)}">')
                lines.append(f'          <ReferentialConstraint Property="{escape(fk_column)}" ReferencedProperty="Id"/>')
                lines.append('        </NavigationProperty>')
        lines.append('      </EntityType>')
    lines.append('      <EntityContainer Name="Default">')
    for entity in entities:
        bindings = [(nav, target) for nav, (_fk, target) in entity.lookups.items() if target in names]
        if not bindings:
            lines.append(f'        <EntitySet Name="{escape(entity.name)}" EntityType="{NAMESPACE}.{escape(entity.name)}"/>')
            continue
        lines.append(f'        <EntitySet Name="{escape(entity.name)}" EntityType="{NAMESPACE}.{escape(entity.name)}">')
        for nav, target in bindings:
            lines.append(f'          <NavigationPropertyBinding Path="{escape(nav)}" Target="{escape(target)}"/>')
        lines.append('        </EntitySet>')
    lines.extend(['      </EntityContainer>', '    </Schema>', '  </edmx:DataServices>', '</edmx:Edmx>', ''])
    return '\n'.join(lines).encode('utf-8')
