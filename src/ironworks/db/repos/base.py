"""What every repository shares: keyset pagination, integrity-error translation and the generic repository.

A resource's repository (db/repos/<resource>.py) subclasses ``Repository[Model]`` (create/update/delete with
plain callbacks) or ``LookupRepository[Model, Lookup]`` (callbacks that read through a lookup in the write's
transaction) and declares only what is particular to it; see ``BaseRepository``.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, Table, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import utcnow
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_uuid  # noqa: F401

Record = dict[str, Any]


def paginate(
    stmt: Select[Any],
    table: Table,
    *,
    sort_key: str,
    sort_dir: str,
    marker: Record | None,
    limit: int | None,
) -> Select[Any]:
    """Order by (sort_key, id) in one direction and continue after ``marker`` (keyset pagination).

    NULLs sort first ascending and last descending, on SQLite and PostgreSQL alike.
    """
    col = table.c[sort_key]
    id_col = table.c.id
    if sort_dir == "desc":
        stmt = stmt.order_by(col.desc().nulls_last(), id_col.desc())
    else:
        stmt = stmt.order_by(col.asc().nulls_first(), id_col.asc())
    if marker is not None:
        mv, mid = marker.get(sort_key), marker["id"]
        if sort_key == "id":
            stmt = stmt.where(id_col < mid if sort_dir == "desc" else id_col > mid)
        elif sort_dir == "desc":
            if mv is None:
                stmt = stmt.where(and_(col.is_(None), id_col < mid))
            else:
                stmt = stmt.where(or_(col < mv, and_(col == mv, id_col < mid), col.is_(None)))
        else:
            if mv is None:
                stmt = stmt.where(or_(and_(col.is_(None), id_col > mid), col.is_not(None)))
            else:
                stmt = stmt.where(or_(col > mv, and_(col == mv, id_col > mid)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def list_page(
    session: Any,
    stmt: Select[Any],
    table: Table,
    *,
    sort_key: str,
    sort_dir: str,
    marker: str | None,
    limit: int | None,
    not_found: Callable[[str], errors.IronworksError],
    marker_source: Select[Any] | None = None,
) -> list[Record]:
    """One page of ``stmt`` after the row whose uuid is ``marker`` (``not_found(marker)`` if it does not exist).

    The marker row is looked up in ``marker_source`` (default ``stmt``): the unfiltered select of the resource.
    """
    marker_rec = None
    if marker is not None:
        source = stmt if marker_source is None else marker_source
        row = session.execute(source.where(table.c.uuid == marker)).mappings().first()
        if row is None:
            raise not_found(marker)
        marker_rec = dict(row)
    result = session.execute(
        paginate(stmt, table, sort_key=sort_key, sort_dir=sort_dir, marker=marker_rec, limit=limit)
    )
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.tuples()]


@contextmanager
def translate_integrity(
    table: str, mapping: Sequence[tuple[str, Callable[[], errors.IronworksError]]]
) -> Iterator[None]:
    """Turn a unique-constraint violation into the matching Conflict error.

    ``mapping`` pairs a column of ``table`` with the error to raise when its uniqueness is violated. SQLite
    names the column as ``table.column``, PostgreSQL as ``Key (column)=``.
    """
    try:
        yield
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        for column, make in mapping:
            if f"{table}.{column}" in text or f"({column})=" in text:
                raise make() from exc
        raise errors.Conflict(f"Database constraint violated: {exc.orig}") from exc


def row_to_record(row: Any) -> Record:
    return dict(row._mapping) if hasattr(row, "_mapping") else dict(row)


def sortable(table: Table) -> frozenset[str]:
    """The columns a list may be sorted by: every column but the JSON ones."""
    return frozenset(c.name for c in table.columns if c.type.__class__.__name__ != "JSON")


# --- the generic repository -----------------------------------------------------------------------------------

M = TypeVar("M", bound=DeclarativeBase)  #: the model class whose table a repository stores
L = TypeVar("L")  #: what a ``LookupRepository`` hands its callbacks: reads inside the write's transaction

Changes = dict[str, Any]
#: the error a violated unique column raises, made from the values being written
UniqueError = Callable[[dict[str, Any]], errors.IronworksError]


class BaseRepository(Generic[M]):
    """Reads (get by uuid or name, filtered keyset pages) and the steps of a write, for one model's table.

    A resource's repository declares what is particular to it as class attributes and hooks:

    - ``model``: the SQLAlchemy model; ``query``: the SELECT a record is read with (default: the table; a
      join adds columns such as ``node_uuid``);
    - ``named``: an identifier that is not a UUID is a name; ``lower_uuid``: UUIDs are compared lowercased;
    - ``lock``: updates read the row ``FOR UPDATE`` on PostgreSQL (SQLite writers are serialised anyway);
    - ``unique``: (column, error) pairs turning a unique violation into the resource's Conflict;
    - ``not_found(ident)`` and ``marker_not_found(marker)``: the resource's NotFound errors;
    - ``filter_clause(key, value)``: the WHERE clause of one list filter (default: ``column == value``; None: none).

    Records are plain dicts of the query's columns.
    """

    model: type[M]
    query: Select[Any] | None = None
    named: bool = False
    lower_uuid: bool = False
    lock: bool = False
    unique: Sequence[tuple[str, UniqueError]] = ()

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = cast(Table, self.model.__table__)
        self.select: Select[Any] = select(self.table) if self.query is None else self.query

    # --- hooks ------------------------------------------------------------------------------------------------
    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.NotFound(f"{self.model.__name__} {ident} could not be found.")

    def marker_not_found(self, marker: str) -> errors.IronworksError:
        return self.not_found(marker)

    def filter_clause(self, key: str, value: Any) -> Any:
        """The WHERE clause of filter ``key`` (None: no clause)."""
        return self.table.c[key] == value

    # --- reading ----------------------------------------------------------------------------------------------
    def ident_clause(self, ident: str) -> Any:
        """``ident`` as a WHERE clause: by uuid, or by name when the resource is named and ident no UUID."""
        if self.named and not is_uuid_like(ident):
            return self.table.c.name == ident
        return self.table.c.uuid == (ident.lower() if self.lower_uuid else ident)

    def _get(self, session: Session, ident: str, *, lock: bool = False) -> Record:
        stmt = self.select.where(self.ident_clause(ident))
        if lock and not self.db.is_sqlite:
            stmt = stmt.with_for_update(of=self.table)
        row = session.execute(stmt).mappings().first()
        if row is None:
            raise self.not_found(ident)
        return dict(row)

    def get(self, ident: str) -> Record:
        with self.db.read() as session:
            return self._get(session, ident)

    def filtered(self, filters: dict[str, Any] | None) -> Select[Any]:
        """The query with one ``filter_clause`` per filter whose value is not None."""
        stmt = self.select
        for key, value in (filters or {}).items():
            clause = None if value is None else self.filter_clause(key, value)
            if clause is not None:
                stmt = stmt.where(clause)
        return stmt

    def _page(
        self,
        session: Session,
        stmt: Select[Any],
        *,
        sort_key: str,
        sort_dir: str,
        marker: str | None,
        limit: int | None,
        marker_source: Select[Any] | None = None,
    ) -> builtins.list[Record]:
        """A page of ``stmt``; the marker is looked up in ``marker_source`` (default: the unfiltered query)."""
        return list_page(
            session,
            stmt,
            self.table,
            sort_key=sort_key,
            sort_dir=sort_dir,
            marker=marker,
            limit=limit,
            marker_source=self.select if marker_source is None else marker_source,
            not_found=self.marker_not_found,
        )

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Record]:
        with self.db.read() as session:
            return self._page(
                session, self.filtered(filters), sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit
            )

    # --- the steps of a write (inside ``with self.integrity(values), self.db.write() as session``) ------------
    def integrity(self, values: dict[str, Any]) -> contextlib.AbstractContextManager[None]:
        """Unique violations → the resource's Conflict, made from ``values`` (read when the error is raised)."""
        return translate_integrity(
            self.table.name, [(column, functools.partial(make, values)) for column, make in self.unique]
        )

    def _insert(self, session: Session, values: dict[str, Any]) -> Record:
        values = dict(values)
        values.setdefault("created_at", utcnow())
        session.execute(insert(self.table), values)
        return self._get(session, values["uuid"])

    def _update(self, ident: str, mutate: Callable[[Session, Record], Changes]) -> Record:
        """Read the record (locked if ``lock``), let ``mutate`` compute the changed columns (or raise), write them:
        one transaction. No changes: the record as read, nothing written."""
        changes: Changes = {}
        with self.integrity(changes), self.db.write() as session:
            record = self._get(session, ident, lock=self.lock)
            changes.update(mutate(session, record))
            if not changes:
                return record
            session.execute(
                update(self.table).where(self.table.c.id == record["id"]).values(**dict(changes, updated_at=utcnow()))
            )
            return self._get(session, record["uuid"])

    def _delete(self, ident: str, check: Callable[[Session, Record], None] | None = None) -> Record:
        """Delete the record after ``check`` (which may raise) in one transaction; the deleted record."""
        with self.db.write() as session:
            record = self._get(session, ident, lock=self.lock)
            if check is not None:
                check(session, record)
            session.execute(delete(self.table).where(self.table.c.id == record["id"]))
            return record


class Repository(BaseRepository[M]):
    """Create, update with a ``mutate(record)`` callback, delete: each one transaction."""

    def create(self, values: dict[str, Any]) -> Record:
        with self.integrity(values), self.db.write() as session:
            return self._insert(session, values)

    def update(self, ident: str, mutate: Callable[[Record], Changes]) -> Record:
        """``mutate`` computes the changed columns from the record (or raises); none: nothing is written."""
        return self._update(ident, lambda _session, record: mutate(record))

    def delete(self, ident: str) -> Record:
        return self._delete(ident)


class LookupRepository(BaseRepository[M], Generic[M, L]):
    """Writes whose callbacks check the rules with a lookup (``make_lookup``) reading in the same transaction,
    so that no other writer comes between the checks and the write."""

    def make_lookup(self, session: Session) -> L:
        raise NotImplementedError

    def create(self, build: Callable[[L], dict[str, Any]]) -> Record:
        """``build`` checks the rules with the lookup and returns the column values to insert."""
        values: dict[str, Any] = {}
        with self.integrity(values), self.db.write() as session:
            values.update(build(self.make_lookup(session)))
            return self._insert(session, values)

    def update(self, ident: str, mutate: Callable[[Record, L], Changes]) -> Record:
        return self._update(ident, lambda session, record: mutate(record, self.make_lookup(session)))

    def delete(self, ident: str, check: Callable[[Record, L], None] | None = None) -> Record:
        if check is None:
            return self._delete(ident)
        return self._delete(ident, lambda session, record: check(record, self.make_lookup(session)))
