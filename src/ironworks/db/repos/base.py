"""What every repository shares: identifier parsing, keyset pagination and integrity-error translation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Select, Table, and_, or_
from sqlalchemy.exc import IntegrityError

from ironworks import errors
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
    result = session.execute(paginate(stmt, table, sort_key=sort_key, sort_dir=sort_dir, marker=marker_rec,
                                      limit=limit))
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
