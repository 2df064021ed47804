"""GenQuery (API 702) over the SQLite catalog.

Column numbers map to SQL expressions; the tables a query needs follow from the
hundreds-group of its columns and are joined along the ICAT's links. As in iRODS:
DISTINCT by default, ``ORDER BY`` the caller's order columns then COLL_NAME, DATA_NAME and
DATA_REPL_NUM, aggregates group by the plain columns, no rows is ``CAT_NO_ROWS_FOUND``,
and a non-admin sees only data objects (or collections) it may at least read metadata of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .catalog import SEE
from .errors import CAT_INVALID_ARGUMENT, IrodsError

ORDER_BY, ORDER_BY_DESC = 0x400, 0x800
AGGREGATES = {2: "MIN", 3: "MAX", 4: "SUM", 5: "AVG", 6: "COUNT"}
NO_DISTINCT, RETURN_TOTAL_ROW_COUNT, UPPER_CASE_WHERE = 0x40, 0x20, 0x200
MAX_ROWS_MATERIALISED = 2_000_000

# group -> (table, alias, [(extra table, alias, join condition)])
TABLES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "U": ("users", "U", []),
    "G": ("user_group", "UG", [("users", "GU", "GU.user_id = UG.group_user_id")]),
    "UA": ("user_auth", "UA", []),
    "UM": ("objt_metamap", "UMM", [("meta", "UM", "UM.meta_id = UMM.meta_id")]),
    "R": ("resc", "R", []),
    "RM": ("objt_metamap", "RMM", [("meta", "RM", "RM.meta_id = RMM.meta_id")]),
    "C": ("colls", "C", []),
    "D": ("data", "D", []),
    "DM": ("objt_metamap", "DMM", [("meta", "DM", "DM.meta_id = DMM.meta_id")]),
    "CM": ("objt_metamap", "CMM", [("meta", "CM", "CM.meta_id = CMM.meta_id")]),
    "DA": ("access", "DA", [("tokens", "DT", "DT.token_id = DA.access_type_id")]),
    "CA": ("access", "CA", [("tokens", "CT", "CT.token_id = CA.access_type_id")]),
    "CU": ("users", "CU", []),
    "Z": ("zones", "Z", []),
    "Q": ("quotas", "Q", []),
    "T": ("tickets", "TK", []),
    "TH": ("ticket_allowed", "TH", []),
    "TU": ("ticket_allowed", "TU", []),
    "TG": ("ticket_allowed", "TG", []),
    "TD": ("data", "TDD", [("colls", "TDC", "TDC.coll_id = TDD.coll_id")]),
    "TC": ("colls", "TCC", []),
    "TO": ("users", "TOU", []),
}
# (group a, group b) -> condition linking them
LINKS = {
    ("D", "C"): "D.coll_id = C.coll_id",
    ("DM", "D"): "DMM.object_id = D.data_id",
    ("DA", "D"): "DA.object_id = D.data_id",
    ("CM", "C"): "CMM.object_id = C.coll_id",
    ("CA", "C"): "CA.object_id = C.coll_id",
    ("CU", "CA"): "CU.user_id = CA.user_id",
    ("R", "D"): "R.resc_id = D.resc_id",
    ("RM", "R"): "RMM.object_id = R.resc_id",
    ("G", "U"): "UG.user_id = U.user_id",
    ("UA", "U"): "UA.user_id = U.user_id",
    ("UM", "U"): "UMM.object_id = U.user_id",
    ("TH", "T"): "TH.ticket_id = TK.ticket_id AND TH.kind = 'host'",
    ("TU", "T"): "TU.ticket_id = TK.ticket_id AND TU.kind = 'user'",
    ("TG", "T"): "TG.ticket_id = TK.ticket_id AND TG.kind = 'group'",
    ("TD", "T"): "TDD.data_id = TK.object_id",
    ("TC", "T"): "TCC.coll_id = TK.object_id",
    ("TO", "T"): "TOU.user_id = TK.user_id",
}
REQUIRES = {
    "DM": "D", "DA": "D", "CM": "C", "CA": "C", "CU": "CA", "UM": "U", "RM": "R",
    "TH": "T", "TU": "T", "TG": "T", "TD": "T", "TC": "T", "TO": "T",
}  # fmt: skip
PRIORITY = [
    "C", "D", "DM", "DA", "CM", "CA", "CU", "R", "RM", "U", "G", "UA", "UM", "Z", "Q",
    "T", "TH", "TU", "TG", "TD", "TC", "TO",
]  # fmt: skip
META_GROUPS = {"DM": 600, "CM": 610, "RM": 630, "UM": 640}


def _time(expr: str) -> str:
    return f"printf('%011d', {expr})"


def _meta(group: str, alias: str, base: int) -> dict[int, tuple[str, str]]:
    mm = alias + "M"
    return {
        base: (group, f"{alias}.meta_attr_name"),
        base + 1: (group, f"{alias}.meta_attr_value"),
        base + 2: (group, f"{alias}.meta_attr_unit"),
        base + 3: (group, f"{mm}.meta_id"),
        base + 4: (group, _time(f"{alias}.create_ts")),
        base + 5: (group, _time(f"{alias}.modify_ts")),
    }


def _acl(group: str, alias: str, token: str, base: int) -> dict[int, tuple[str, str]]:
    return {
        base: (group, f"{alias}.access_type_id"),
        base + 1: (group, f"{token}.token_name"),
        base + 2: (group, f"{token}.token_namespace"),
        base + 3: (group, f"{alias}.user_id"),
        base + 4: (group, f"{alias}.object_id"),
    }


# column number -> (group, SQL expression)
COLUMNS: dict[int, tuple[str, str]] = {
    201: ("U", "U.user_id"), 202: ("U", "U.user_name"), 203: ("U", "U.user_type_name"),
    204: ("U", "U.zone_name"), 206: ("U", "U.user_info"), 207: ("U", "U.r_comment"),
    208: ("U", _time("U.create_ts")), 209: ("U", _time("U.modify_ts")),
    900: ("G", "UG.group_user_id"), 901: ("G", "GU.user_name"),
    1600: ("UA", "UA.user_id"), 1601: ("UA", "UA.user_auth_name"),
    301: ("R", "R.resc_id"), 302: ("R", "R.resc_name"), 303: ("R", "R.zone_name"),
    304: ("R", "R.resc_type_name"), 305: ("R", "R.resc_class_name"), 306: ("R", "R.resc_net"),
    307: ("R", "R.resc_def_path"), 308: ("R", "R.free_space"), 310: ("R", "R.r_comment"),
    311: ("R", _time("R.create_ts")), 312: ("R", _time("R.modify_ts")),
    313: ("R", "R.resc_status"), 314: ("R", "''"), 315: ("R", "''"),
    316: ("R", "R.resc_context"), 317: ("R", "R.resc_parent"),
    318: ("R", "R.resc_parent_context"),
    101: ("Z", "Z.zone_id"), 102: ("Z", "Z.zone_name"), 103: ("Z", "Z.zone_type_name"),
    104: ("Z", "Z.zone_conn_string"), 105: ("Z", "Z.r_comment"),
    106: ("Z", _time("Z.create_ts")), 107: ("Z", _time("Z.modify_ts")),
    2000: ("Q", "Q.user_id"), 2001: ("Q", "Q.resc_id"), 2002: ("Q", "Q.quota_limit"),
    2003: ("Q", "Q.quota_over"), 2004: ("Q", _time("Q.modify_ts")),
    2200: ("T", "TK.ticket_id"), 2201: ("T", "TK.ticket_string"),
    2202: ("T", "TK.ticket_type"), 2203: ("T", "TK.user_id"), 2204: ("T", "TK.object_id"),
    2205: ("T", "TK.object_type"), 2206: ("T", "TK.uses_limit"),
    2207: ("T", "TK.uses_count"), 2208: ("T", "TK.ticket_expiry_ts"),
    2209: ("T", _time("TK.create_ts")), 2210: ("T", _time("TK.modify_ts")),
    2211: ("T", "TK.write_file_count"), 2212: ("T", "TK.write_file_limit"),
    2213: ("T", "TK.write_byte_count"), 2214: ("T", "TK.write_byte_limit"),
    2220: ("TH", "TH.ticket_id"), 2221: ("TH", "TH.name"),
    2222: ("TU", "TU.ticket_id"), 2223: ("TU", "TU.name"),
    2224: ("TG", "TG.ticket_id"), 2225: ("TG", "TG.name"),
    2226: ("TD", "TDD.data_name"), 2227: ("TD", "TDC.coll_name"),
    2228: ("TC", "TCC.coll_name"), 2229: ("TO", "TOU.user_name"), 2230: ("TO", "TOU.zone_name"),
    401: ("D", "D.data_id"), 402: ("D", "D.coll_id"), 403: ("D", "D.data_name"),
    404: ("D", "D.data_repl_num"), 405: ("D", "D.data_version"), 406: ("D", "D.data_type_name"),
    407: ("D", "D.data_size"), 409: ("D", "D.resc_name"), 410: ("D", "D.data_path"),
    411: ("D", "D.data_owner_name"), 412: ("D", "D.data_owner_zone"),
    413: ("D", "D.data_is_dirty"), 414: ("D", "D.data_status"), 415: ("D", "D.data_checksum"),
    416: ("D", "D.data_expiry_ts"), 417: ("D", "D.data_map_id"), 418: ("D", "D.r_comment"),
    419: ("D", _time("D.create_ts")), 420: ("D", _time("D.modify_ts")),
    422: ("D", "D.resc_hier"), 423: ("D", "D.resc_id"),
    500: ("C", "C.coll_id"), 501: ("C", "C.coll_name"), 502: ("C", "C.parent_coll_name"),
    503: ("C", "C.coll_owner_name"), 504: ("C", "C.coll_owner_zone"), 505: ("C", "'0'"),
    506: ("C", "C.coll_inheritance"), 507: ("C", "C.r_comment"),
    508: ("C", _time("C.create_ts")), 509: ("C", _time("C.modify_ts")),
    1300: ("CU", "CU.user_name"), 1301: ("CU", "CU.zone_name"),
    **_meta("DM", "DM", 600), **_meta("CM", "CM", 610), **_meta("RM", "RM", 630),
    **_meta("UM", "UM", 640),
    **_acl("DA", "DA", "DT", 700), **_acl("CA", "CA", "CT", 710),
}  # fmt: skip
# Where a column is compared, compare the raw value, not its zero-padded text.
RAW = {expr: expr[len("printf('%011d', ") : -1] for _, expr in COLUMNS.values() if "printf" in expr}

_OP_RE = re.compile(
    r"^\s*(not\s+like|like|not\s+between|between|not\s+in|in|<>|!=|<=|>=|=|<|>)\s*(.*)$",
    re.I | re.S,
)


@dataclass
class Query:
    """A parsed GenQueryInp_PI."""

    selects: list[tuple[int, int]]
    conditions: list[tuple[int, str]]
    max_rows: int = 500
    offset: int = 0
    options: int = 0
    keywords: dict[str, str] = field(default_factory=dict)


def _unquote(text: str) -> str:
    text = text.strip()
    if text.startswith("'"):
        text = text[1:]
    if text.endswith("'"):
        text = text[:-1]
    return text


def _condition(expr: str, cond: str, upper: bool) -> tuple[str, list[object]]:
    m = _OP_RE.match(cond)
    if not m:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"cannot parse condition {cond!r}")
    op, rest = " ".join(m.group(1).lower().split()), m.group(2)
    col = f"UPPER({expr})" if upper else expr
    if op in ("in", "not in"):
        inner = rest.strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad 'in' list {rest!r}")
        values: list[object] = list(re.split(r"'\s*,\s*'", _unquote(inner[1:-1])))
        return f"{col} {op.upper()} ({','.join('?' * len(values))})", values
    if op in ("between", "not between"):
        values = list(re.split(r"'\s+'", _unquote(rest), maxsplit=1))
        if len(values) != 2:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad 'between' {rest!r}")
        return f"{col} {op.upper()} ? AND ?", values
    if op in ("like", "not like"):
        return f"{col} {op.upper()} ? ESCAPE '\\'", [_unquote(rest)]
    return f"{col} {'<>' if op == '!=' else op} ?", [_unquote(rest)]


def _from_clause(groups: set[str]) -> str:
    for g in list(groups):
        while g in REQUIRES:
            g = REQUIRES[g]
            groups.add(g)
    order = sorted(groups, key=PRIORITY.index)
    joined: list[str] = []
    parts: list[str] = []
    pending = order[:]
    while pending:
        link, chosen = None, pending[0]
        for g in pending:
            link = next(
                (LINKS.get((g, j)) or LINKS.get((j, g)) for j in joined
                 if (g, j) in LINKS or (j, g) in LINKS),
                None,
            )  # fmt: skip
            if link:
                chosen = g
                break
        table, alias, extras = TABLES[chosen]
        if not parts:
            parts.append(f"FROM {table} {alias}")
        elif link:
            parts.append(f"JOIN {table} {alias} ON {link}")
        else:
            parts.append(f"CROSS JOIN {table} {alias}")
        parts.extend(f"JOIN {t} {a} ON {c}" for t, a, c in extras)
        joined.append(chosen)
        pending.remove(chosen)
    return " ".join(parts)


def _selects(q: Query) -> tuple[list[str], list[str], list[str]]:
    """SELECT expressions, the plain (grouping) ones, and the caller's ORDER BY terms."""
    select, plain, order = [], [], []
    for col, flag in q.selects:
        expr = COLUMNS[col][1]
        if flag in AGGREGATES:
            select.append(f"{AGGREGATES[flag]}({RAW.get(expr, expr)})")
            continue
        select.append(expr)
        plain.append(expr)
        if flag & ORDER_BY_DESC:
            order.append(f"{RAW.get(expr, expr)} DESC")
        elif flag & ORDER_BY:
            order.append(RAW.get(expr, expr))
    return select, plain, order


def _meta_alias(expr: str, group: str, n: int) -> str:
    """The expression for the n-th AVU joined for a metadata group (n=1 is the plain one)."""
    if n == 1:
        return expr
    expr = re.sub(rf"\b{group}M\.", f"{group}M{n}.", expr)
    return re.sub(rf"\b{group}\.", f"{group}{n}.", expr)


def _conditions(q: Query) -> tuple[list[str], list[object], dict[str, int]]:
    """WHERE terms. As in iRODS, each further condition on a metadata *name* column joins
    another AVU, and the value/units conditions after it apply to that AVU."""
    where: list[str] = []
    params: list[object] = []
    upper = bool(q.options & UPPER_CASE_WHERE)
    aliases: dict[str, int] = {}
    for col, cond in q.conditions:
        group, expr = COLUMNS[col]
        expr = RAW.get(expr, expr)
        if group in META_GROUPS:
            if col == META_GROUPS[group]:
                aliases[group] = aliases.get(group, 0) + 1
            expr = _meta_alias(expr, group, max(1, aliases.get(group, 1)))
        sql, values = _condition(expr, cond, upper)
        where.append(sql)
        params.extend(values)
    return where, params, aliases


def _extra_meta_joins(aliases: dict[str, int]) -> str:
    owners = {"DM": "D.data_id", "CM": "C.coll_id", "RM": "R.resc_id", "UM": "U.user_id"}
    joins = []
    for group, count in aliases.items():
        for n in range(2, count + 1):
            joins.append(
                f"JOIN objt_metamap {group}M{n} ON {group}M{n}.object_id = {owners[group]}"
                f" JOIN meta {group}{n} ON {group}{n}.meta_id = {group}M{n}.meta_id"
            )
    return " ".join(joins)


def _visibility(
    groups: set[str], visible_to: list[int], ticket_ids: list[int], actor_id: int
) -> tuple[list[str], list[object]]:
    """Non-admin filters: objects need read_metadata (or the connection's ticket); tickets
    are listed to their owners only."""
    where: list[str] = []
    params: list[object] = []
    if "D" in groups or "C" in groups:
        target = "D.data_id" if "D" in groups else "C.coll_id"
        marks = ",".join("?" * len(visible_to))
        # Correlated, so SQLite checks each candidate row through the access primary key
        # (object_id, user_id) instead of first listing everything the caller may see.
        term = (
            f"EXISTS (SELECT 1 FROM access ACL WHERE ACL.object_id = {target}"
            f" AND ACL.user_id IN ({marks}) AND ACL.access_type_id >= {SEE})"
        )
        params.extend(visible_to)
        if ticket_ids:
            term = f"({term} OR {target} IN ({','.join('?' * len(ticket_ids))}))"
            params.extend(ticket_ids)
        where.append(term)
    if "T" in groups:
        where.append("TK.user_id = ?")
        params.append(actor_id)
    return where, params


def build_sql(
    q: Query, visible_to: list[int] | None, ticket_ids: list[int] | None = None, actor_id: int = 0
) -> tuple[str, list[object]]:
    """SQL and parameters for a query; ``visible_to`` (group ids) filters by ACL."""
    if not q.selects:
        raise IrodsError(CAT_INVALID_ARGUMENT, "nothing selected")
    for col, _ in q.selects + [(c, 0) for c, _ in q.conditions]:
        if col not in COLUMNS:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"unknown GenQuery column {col}")
    groups = {COLUMNS[c][0] for c, _ in q.selects} | {COLUMNS[c][0] for c, _ in q.conditions}
    select, plain, order = _selects(q)
    where, params, aliases = _conditions(q)
    if visible_to is not None:
        more, values = _visibility(groups, visible_to, ticket_ids or [], actor_id)
        where += more
        params += values
    distinct = "" if q.options & NO_DISTINCT else "DISTINCT "
    sql = f"SELECT {distinct}{', '.join(select)} {_from_clause(groups)}"
    sql += (" " + _extra_meta_joins(aliases)).rstrip()
    if where:
        sql += " WHERE " + " AND ".join(where)
    aggregated = len(plain) < len(select)
    if aggregated and plain:
        sql += " GROUP BY " + ", ".join(plain)
    selected = {c for c, f in q.selects if f not in AGGREGATES}
    for col in (501, 403, 404):
        if col in selected:
            order.append(RAW.get(COLUMNS[col][1], COLUMNS[col][1]))
    if not aggregated:
        order.extend(RAW.get(e, e) for e in plain)
    if order:
        sql += " ORDER BY " + ", ".join(dict.fromkeys(order))
    return sql, params


def format_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
