"""SQLite storage: one connection guarded by a re-entrant lock, WAL for files.

The lock serialises every read and write; the simulator's business calls are tiny, so one connection
is simpler and faster than a pool, and it makes transactions trivially consistent.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS corps (
    corpid TEXT PRIMARY KEY, name TEXT NOT NULL, secret TEXT NOT NULL, agentid INTEGER NOT NULL,
    callback_url TEXT, callback_token TEXT, callback_aes_key TEXT,
    drop_next INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, corpid TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_corp ON tokens (corpid, expires_at);
CREATE TABLE IF NOT EXISTS departments (
    corpid TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL, name_en TEXT NOT NULL DEFAULT '',
    parentid INTEGER NOT NULL, sort INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (corpid, id)
);
CREATE TABLE IF NOT EXISTS users (
    corpid TEXT NOT NULL, userid TEXT NOT NULL, name TEXT NOT NULL,
    departments TEXT NOT NULL, orders TEXT NOT NULL, is_leader TEXT NOT NULL,
    main_department INTEGER NOT NULL, position TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '', gender TEXT NOT NULL DEFAULT '0',
    email TEXT NOT NULL DEFAULT '', alias TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 1, customer_contact INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL, PRIMARY KEY (corpid, userid)
);
CREATE TABLE IF NOT EXISTS customers (
    corpid TEXT NOT NULL, external_userid TEXT NOT NULL, name TEXT NOT NULL,
    avatar TEXT NOT NULL DEFAULT '', type INTEGER NOT NULL DEFAULT 1,
    gender INTEGER NOT NULL DEFAULT 0, unionid TEXT NOT NULL DEFAULT '',
    position TEXT NOT NULL DEFAULT '', corp_name TEXT NOT NULL DEFAULT '',
    corp_full_name TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    PRIMARY KEY (corpid, external_userid)
);
CREATE TABLE IF NOT EXISTS follows (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, userid TEXT NOT NULL,
    external_userid TEXT NOT NULL, status TEXT NOT NULL,
    remark TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
    createtime INTEGER NOT NULL, remark_corp_name TEXT NOT NULL DEFAULT '',
    remark_mobiles TEXT NOT NULL DEFAULT '[]', oper_userid TEXT NOT NULL DEFAULT '',
    add_way INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT '',
    welcome_code TEXT NOT NULL DEFAULT '',
    UNIQUE (corpid, userid, external_userid)
);
CREATE INDEX IF NOT EXISTS follows_user ON follows (corpid, userid, id);
CREATE INDEX IF NOT EXISTS follows_customer ON follows (corpid, external_userid);
CREATE TABLE IF NOT EXISTS follow_tags (
    follow_id INTEGER NOT NULL, tag_id TEXT NOT NULL, PRIMARY KEY (follow_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS follow_tags_tag ON follow_tags (tag_id);
CREATE TABLE IF NOT EXISTS tag_groups (
    corpid TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL, sort INTEGER NOT NULL,
    create_time INTEGER NOT NULL, owner_agentid INTEGER, PRIMARY KEY (corpid, group_id)
);
CREATE TABLE IF NOT EXISTS tags (
    corpid TEXT NOT NULL, tag_id TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL,
    sort INTEGER NOT NULL, create_time INTEGER NOT NULL, owner_agentid INTEGER,
    PRIMARY KEY (corpid, tag_id)
);
CREATE INDEX IF NOT EXISTS tags_group ON tags (corpid, group_id);
CREATE TABLE IF NOT EXISTS contact_ways (
    corpid TEXT NOT NULL, config_id TEXT NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (corpid, config_id)
);
CREATE INDEX IF NOT EXISTS contact_ways_created ON contact_ways (corpid, created_at, config_id);
CREATE TABLE IF NOT EXISTS welcome_codes (
    code TEXT PRIMARY KEY, corpid TEXT NOT NULL, userid TEXT NOT NULL,
    external_userid TEXT NOT NULL, issued_at REAL NOT NULL, used_at REAL
);
CREATE TABLE IF NOT EXISTS welcome_messages (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, welcome_code TEXT NOT NULL,
    userid TEXT NOT NULL, external_userid TEXT NOT NULL, text TEXT NOT NULL,
    attachments TEXT NOT NULL, sent_at REAL NOT NULL, errcode INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS welcome_messages_corp ON welcome_messages (corpid, id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, event TEXT NOT NULL, change_type TEXT NOT NULL,
    xml TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, finished_at REAL
);
CREATE INDEX IF NOT EXISTS events_corp_status ON events (corpid, status, id);
CREATE TABLE IF NOT EXISTS app_messages (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, msgid TEXT NOT NULL, agentid INTEGER NOT NULL,
    userid TEXT NOT NULL, msgtype TEXT NOT NULL, content TEXT NOT NULL,
    safe INTEGER NOT NULL DEFAULT 0, sent_at REAL NOT NULL, delivered INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS app_messages_user ON app_messages (corpid, userid, sent_at);
CREATE TABLE IF NOT EXISTS acquisition_links (
    corpid TEXT NOT NULL, link_id TEXT NOT NULL, link_name TEXT NOT NULL,
    create_time INTEGER NOT NULL, user_list TEXT NOT NULL, department_list TEXT NOT NULL,
    skip_verify INTEGER NOT NULL, owner_agentid INTEGER, status TEXT NOT NULL DEFAULT 'active',
    next_pick INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (corpid, link_id)
);
CREATE TABLE IF NOT EXISTS acquisition_quota (
    corpid TEXT PRIMARY KEY, balance INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    expire_date INTEGER NOT NULL, low_sent INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS acquisition_clicks (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, link_id TEXT NOT NULL,
    external_userid TEXT NOT NULL, state TEXT NOT NULL, clicked_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS acquisition_clicks_link ON acquisition_clicks (corpid, link_id, clicked_at);
CREATE TABLE IF NOT EXISTS acquisition_customers (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, link_id TEXT NOT NULL,
    external_userid TEXT NOT NULL, userid TEXT NOT NULL, state TEXT NOT NULL,
    status TEXT NOT NULL, chat_status INTEGER NOT NULL DEFAULT 0, added_at REAL,
    UNIQUE (corpid, userid, external_userid, link_id)
);
CREATE INDEX IF NOT EXISTS acquisition_customers_link ON acquisition_customers (corpid, link_id, id);
CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY, corpid TEXT NOT NULL, kind TEXT NOT NULL,
    handover_userid TEXT NOT NULL, takeover_userid TEXT NOT NULL, external_userid TEXT NOT NULL,
    status INTEGER NOT NULL, success_msg TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    takeover_at REAL NOT NULL, finished_at REAL
);
CREATE INDEX IF NOT EXISTS transfers_due ON transfers (status, takeover_at, id);
CREATE INDEX IF NOT EXISTS transfers_pair ON transfers (corpid, handover_userid, takeover_userid, id);
CREATE INDEX IF NOT EXISTS transfers_customer ON transfers (corpid, external_userid, created_at);
CREATE TABLE IF NOT EXISTS member_extras (
    corpid TEXT NOT NULL, userid TEXT NOT NULL, customer_limit INTEGER, left_at REAL,
    PRIMARY KEY (corpid, userid)
);
CREATE TABLE IF NOT EXISTS media (
    media_id TEXT PRIMARY KEY, corpid TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL,
    filename TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT NOT NULL,
    data BLOB NOT NULL, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS media_corp ON media (corpid, kind, created_at);
"""


# Feature modules (groupmsg, moments) append their own CREATE TABLE scripts at import time.
EXTRA_SCHEMAS: list[str] = []


class Store:
    """Owns the connection. Use `tx()` for writes (one transaction) and `read()` for reads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self._depth = 0
        if path != ":memory:" and not path.startswith("file::memory:"):
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA + "".join(EXTRA_SCHEMAS))

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A transaction; nested calls join the outer one."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    def one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        with self.lock:
            self.conn.close()
