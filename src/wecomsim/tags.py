"""Corp customer tags (企业客户标签), API-FACTS §3.3.

- Apps may edit and delete only tags they created themselves ("应用仅能编辑和删除本应用创建的标签",
  official doc 92117); anything else answers 301002. Tags made in the admin console (and by the
  seeder, which plays the admin) belong to no app.
- Operations through the API produce no callback (official doc 96361: "通过API进行的操作不会产生回调");
  admin-console edits (control API) send change_external_tag.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import ids
from .errors import ControlError, WeComError
from .state import SimState

MAX_TAGS = 3000
MAX_NAME = 30


def _group_json(group: sqlite3.Row, tags: list[sqlite3.Row]) -> dict[str, Any]:
    return {
        "group_id": group["group_id"],
        "group_name": group["name"],
        "create_time": group["create_time"],
        "order": group["sort"],
        "deleted": False,
        "tag": [
            {
                "id": t["tag_id"],
                "name": t["name"],
                "create_time": t["create_time"],
                "order": t["sort"],
                "deleted": False,
            }
            for t in sorted(tags, key=lambda t: (-t["sort"], t["create_time"], t["tag_id"]))
        ],
    }


def _ordered_groups(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    # Larger order sorts first in WeCom's tag library.
    return sorted(rows, key=lambda g: (-g["sort"], g["create_time"], g["group_id"]))


def tag_library(
    state: SimState,
    corpid: str,
    tag_ids: list[str] | None = None,
    group_ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """get_corp_tag_list: group_id wins over tag_id when both are given."""
    with state.store.read() as db:
        groups = db.execute("SELECT * FROM tag_groups WHERE corpid = ?", (corpid,)).fetchall()
        tags = db.execute("SELECT * FROM tags WHERE corpid = ?", (corpid,)).fetchall()
    by_group: dict[str, list[sqlite3.Row]] = {}
    for tag in tags:
        by_group.setdefault(tag["group_id"], []).append(tag)
    if group_ids:
        wanted = set(group_ids)
        return [
            _group_json(g, by_group.get(g["group_id"], []))
            for g in _ordered_groups(groups)
            if g["group_id"] in wanted
        ]
    if tag_ids:
        wanted = set(tag_ids)
        result = []
        for group in _ordered_groups(groups):
            chosen = [t for t in by_group.get(group["group_id"], []) if t["tag_id"] in wanted]
            if chosen:
                result.append(_group_json(group, chosen))
        return result
    return [_group_json(g, by_group.get(g["group_id"], [])) for g in _ordered_groups(groups)]


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise WeComError(40058, "name must not be empty")
    if len(name) > MAX_NAME:
        raise WeComError(40058, f"name longer than {MAX_NAME} characters")
    return name


def add_tags(
    state: SimState,
    corpid: str,
    *,
    group_id: str | None,
    group_name: str | None,
    group_order: int,
    tags: list[dict[str, Any]],
    owner_agentid: int | None,
    emit: bool = False,
) -> dict[str, Any]:
    """add_corp_tag; with `emit`, the admin console's change_external_tag events go out too."""
    if not tags:
        raise WeComError(40058, "tag must not be empty (empty groups are not allowed)")
    names = [_check_name(t.get("name") if isinstance(t, dict) else None) for t in tags]
    now = state.now()
    with state.tx() as db:
        group = None
        if group_id:
            group = db.execute(
                "SELECT * FROM tag_groups WHERE corpid = ? AND group_id = ?", (corpid, group_id)
            ).fetchone()
            if group is None:
                raise WeComError(40068, f"group_id {group_id}")
        else:
            group_name = _check_name(group_name)
            group = db.execute(
                "SELECT * FROM tag_groups WHERE corpid = ? AND name = ?", (corpid, group_name)
            ).fetchone()
        new_group = group is None
        if new_group:
            group_id = ids.tag_id()
            db.execute(
                "INSERT INTO tag_groups (corpid, group_id, name, sort, create_time, owner_agentid) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (corpid, group_id, group_name, int(group_order or 0), now, owner_agentid),
            )
            group = db.execute(
                "SELECT * FROM tag_groups WHERE corpid = ? AND group_id = ?", (corpid, group_id)
            ).fetchone()
        group_id = group["group_id"]
        existing = {
            t["name"]: t
            for t in db.execute(
                "SELECT * FROM tags WHERE corpid = ? AND group_id = ?", (corpid, group_id)
            )
        }
        count = db.execute("SELECT COUNT(*) FROM tags WHERE corpid = ?", (corpid,)).fetchone()[0]
        fresh = [n for n in dict.fromkeys(names) if n not in existing]
        if count + len(fresh) > MAX_TAGS:
            raise WeComError(40126)
        created: list[str] = []
        for spec, name in zip(tags, names, strict=True):
            if name in existing:
                continue  # duplicate names collapse into the existing tag
            tag_id = ids.tag_id()
            db.execute(
                "INSERT INTO tags (corpid, tag_id, group_id, name, sort, create_time, owner_agentid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (corpid, tag_id, group_id, name, int(spec.get("order") or 0), now, owner_agentid),
            )
            existing[name] = db.execute(
                "SELECT * FROM tags WHERE corpid = ? AND tag_id = ?", (corpid, tag_id)
            ).fetchone()
            created.append(tag_id)
        if emit:
            # A new group arrives as one tag_group event; tags added to an old group one by one.
            if new_group:
                _emit_tag(state, db, corpid, group_id, "tag_group", "create")
            else:
                for tag_id in created:
                    _emit_tag(state, db, corpid, tag_id, "tag", "create")
    chosen = [existing[n] for n in dict.fromkeys(names)]
    return _group_json(group, chosen)


def _emit_tag(
    state: SimState,
    db: sqlite3.Connection,
    corpid: str,
    item_id: str,
    tag_type: str,
    change_type: str,
) -> None:
    state.emit(
        db, corpid, "change_external_tag", change_type, [("Id", item_id), ("TagType", tag_type)]
    )


def _find(db: sqlite3.Connection, corpid: str, item_id: str) -> tuple[str, sqlite3.Row] | None:
    tag = db.execute(
        "SELECT * FROM tags WHERE corpid = ? AND tag_id = ?", (corpid, item_id)
    ).fetchone()
    if tag is not None:
        return "tag", tag
    group = db.execute(
        "SELECT * FROM tag_groups WHERE corpid = ? AND group_id = ?", (corpid, item_id)
    ).fetchone()
    return ("tag_group", group) if group is not None else None


def _check_owner(row: sqlite3.Row, agentid: int | None) -> None:
    if agentid is not None and row["owner_agentid"] != agentid:
        raise WeComError(301002, "apps may edit or delete only the tags they created")


def edit_tag(
    state: SimState,
    corpid: str,
    *,
    item_id: str,
    name: str | None,
    order: int | None,
    agentid: int | None,
    emit: bool = False,
) -> None:
    """edit_corp_tag (agentid = the calling app) or an admin rename (agentid None, emit)."""
    if not item_id:
        raise WeComError(40068, "id is required")
    with state.tx() as db:
        found = _find(db, corpid, item_id)
        if found is None:
            raise WeComError(40068, f"id {item_id}")
        kind, row = found
        _check_owner(row, agentid)
        if name is not None:
            name = _check_name(name)
            if kind == "tag":
                clash = db.execute(
                    "SELECT 1 FROM tags WHERE corpid = ? AND group_id = ? AND name = ? "
                    "AND tag_id != ?",
                    (corpid, row["group_id"], name, item_id),
                ).fetchone()
            else:
                clash = db.execute(
                    "SELECT 1 FROM tag_groups WHERE corpid = ? AND name = ? AND group_id != ?",
                    (corpid, name, item_id),
                ).fetchone()
            if clash:
                raise WeComError(40071, name)
        table, key = ("tags", "tag_id") if kind == "tag" else ("tag_groups", "group_id")
        db.execute(
            f"UPDATE {table} SET name = COALESCE(?, name), sort = COALESCE(?, sort) "
            f"WHERE corpid = ? AND {key} = ?",
            (name, order, corpid, item_id),
        )
        if emit:
            _emit_tag(state, db, corpid, item_id, kind, "update")


def delete_tags(
    state: SimState,
    corpid: str,
    *,
    tag_ids: list[str],
    group_ids: list[str],
    agentid: int | None,
    emit: bool = False,
) -> None:
    """del_corp_tag; a group whose last tag goes is deleted with it (API-FACTS §3.3)."""
    if not tag_ids and not group_ids:
        raise WeComError(40058, "tag_id and group_id cannot both be empty")
    with state.tx() as db:
        tags = []
        for tag_id in tag_ids:
            row = db.execute(
                "SELECT * FROM tags WHERE corpid = ? AND tag_id = ?", (corpid, tag_id)
            ).fetchone()
            if row is None:
                raise WeComError(40068, f"tag_id {tag_id}")
            _check_owner(row, agentid)
            tags.append(row)
        groups = []
        for group_id in group_ids:
            row = db.execute(
                "SELECT * FROM tag_groups WHERE corpid = ? AND group_id = ?", (corpid, group_id)
            ).fetchone()
            if row is None:
                raise WeComError(40068, f"group_id {group_id}")
            _check_owner(row, agentid)
            groups.append(row)
        for group in groups:
            members = db.execute(
                "SELECT tag_id FROM tags WHERE corpid = ? AND group_id = ?",
                (corpid, group["group_id"]),
            ).fetchall()
            for member in members:
                _drop_tag(db, corpid, member["tag_id"])
            db.execute(
                "DELETE FROM tag_groups WHERE corpid = ? AND group_id = ?",
                (corpid, group["group_id"]),
            )
            if emit:
                # Deleting a group sends no per-tag delete events (official doc).
                _emit_tag(state, db, corpid, group["group_id"], "tag_group", "delete")
        touched = set()
        for tag in tags:
            if not _drop_tag(db, corpid, tag["tag_id"]):
                continue  # already gone with its group
            touched.add(tag["group_id"])
            if emit:
                _emit_tag(state, db, corpid, tag["tag_id"], "tag", "delete")
        for group_id in touched:
            left = db.execute(
                "SELECT 1 FROM tags WHERE corpid = ? AND group_id = ? LIMIT 1", (corpid, group_id)
            ).fetchone()
            if left is None:
                db.execute(
                    "DELETE FROM tag_groups WHERE corpid = ? AND group_id = ?", (corpid, group_id)
                )
                if emit:
                    _emit_tag(state, db, corpid, group_id, "tag_group", "delete")


def _drop_tag(db: sqlite3.Connection, corpid: str, tag_id: str) -> bool:
    cur = db.execute("DELETE FROM tags WHERE corpid = ? AND tag_id = ?", (corpid, tag_id))
    # follow_tags has no corpid; restrict by the corp's follows (seeded corps share tag ids).
    db.execute(
        "DELETE FROM follow_tags WHERE tag_id = ? AND follow_id IN "
        "(SELECT id FROM follows WHERE corpid = ?)",
        (tag_id, corpid),
    )
    return cur.rowcount > 0


def require_tags(db: sqlite3.Connection, corpid: str, tag_ids: list[str]) -> None:
    for tag_id in tag_ids:
        if not db.execute(
            "SELECT 1 FROM tags WHERE corpid = ? AND tag_id = ?", (corpid, tag_id)
        ).fetchone():
            raise WeComError(40068, f"tag_id {tag_id}")


def apply_tags(db: sqlite3.Connection, follow_id: int, add: list[str], remove: list[str]) -> bool:
    """Adds/removes tags on one follow relation; True when anything changed."""
    changed = False
    for tag_id in add:
        cur = db.execute(
            "INSERT OR IGNORE INTO follow_tags (follow_id, tag_id) VALUES (?, ?)",
            (follow_id, tag_id),
        )
        changed = changed or cur.rowcount > 0
    for tag_id in remove:
        cur = db.execute(
            "DELETE FROM follow_tags WHERE follow_id = ? AND tag_id = ?", (follow_id, tag_id)
        )
        changed = changed or cur.rowcount > 0
    return changed


def admin_item(state: SimState, corpid: str, item_id: str) -> str:
    with state.store.read() as db:
        found = _find(db, corpid, item_id)
    if found is None:
        raise ControlError(404, "unknown_tag", item_id)
    return found[0]
