"""GenQuery results with every page on one connection.

A GenQuery continuation index belongs to the connection that opened it (in iRODS as in the
local zone). python-irodsclient's ``get_results()`` takes any pooled connection for each
page, so once a session holds several idle connections a listing can stop after its first
page without an error. ``all_rows`` holds one connection for the whole query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from irods.api_number import api_number
from irods.exception import CAT_NO_ROWS_FOUND
from irods.message import GenQueryResponse, iRODSMessage
from irods.results import ResultSet


def all_rows(query: Any) -> Iterator[Mapping[Any, Any]]:
    """Every row of ``query`` (a PRC ``Query``), all pages fetched on one connection."""
    with query.sess.pool.get_connection() as conn:
        page = query
        while True:
            # PRC builds the request; only the connection it goes over is ours to choose.
            request = page._message()
            conn.send(
                iRODSMessage("RODS_API_REQ", msg=request, int_info=api_number["GEN_QUERY_AN"])
            )
            try:
                result_set = ResultSet(conn.recv().get_main_message(GenQueryResponse))
            except CAT_NO_ROWS_FOUND:
                return
            yield from result_set
            if result_set.continue_index <= 0:
                return
            page = page.continue_index(result_set.continue_index)
