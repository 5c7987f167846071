"""Seeding: a whole corp's history from one integer, written with executemany in one transaction.

Deterministic: the same seed (and the same sim day) gives the same departments, staff, tags,
customers and relations; only the corpid and secret are fresh. Seeding sends no callbacks: it is the
corp's past, not news.
"""

from __future__ import annotations

import json
import random
from typing import Any

from . import ids, names
from .directory import MAX_DEPTH
from .state import SimState

SEED_MAX_DEPTH = 14  # the issue asks for trees up to 14 levels; the API accepts 15 (API-FACTS §8)
DAY = 86400
ADD_WAYS = [(1, 40), (2, 20), (3, 10), (4, 7), (201, 8), (202, 6), (0, 2), (5, 2), (6, 2), (16, 3)]
STATES = ["store_sh01", "store_bj02", "expo_2025", "poster_a", "website", "wx_article", "live"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "南京", "西安"]


def _departments(rng: random.Random, count: int, corp_name: str) -> list[tuple]:
    """(id, name, parentid, order, depth); id 1 is the root, named after the corp."""
    rows = [(1, corp_name, 0, 100_000_000, 1)]
    depth = {1: 1}
    children: dict[int, list[str]] = {1: []}
    for dept_id in range(2, count + 1):
        if rng.random() < 0.35:
            # Deepen: hang under a recent department, so deep trees actually occur.
            candidates = [r[0] for r in rows[-4:] if depth[r[0]] < SEED_MAX_DEPTH]
        else:
            candidates = [r[0] for r in rows if depth[r[0]] < min(SEED_MAX_DEPTH, 5)]
        parent = rng.choice(candidates or [1])
        base = rng.choice(names.DEPARTMENT_WORDS) + rng.choice(names.DEPARTMENT_SUFFIXES)
        name, n = base, 2
        while name in children[parent]:
            name, n = f"{base}{n}", n + 1
        children[parent].append(name)
        children[dept_id] = []
        depth[dept_id] = depth[parent] + 1
        order = 100_000_000 - 1000 * len(children[parent])
        rows.append((dept_id, name, parent, order, depth[dept_id]))
    assert max(depth.values()) <= MAX_DEPTH
    return rows


def _staff(rng: random.Random, count: int, dept_ids: list[int], domain: str) -> list[dict]:
    users, seen_ids, seen_mobiles = [], set(), set()
    leaf_pool = [d for d in dept_ids if d != 1] or [1]
    for index in range(count):
        name, pinyin = names.person_name(rng)
        userid, n = pinyin, 2
        while userid in seen_ids:
            userid, n = f"{pinyin}{n}", n + 1
        seen_ids.add(userid)
        mobile = ""
        while not mobile or mobile in seen_mobiles:
            mobile = "1" + rng.choice("3456789") + "".join(rng.choices("0123456789", k=9))
        seen_mobiles.add(mobile)
        departments = [rng.choice(leaf_pool)]
        if rng.random() < 0.1 and len(leaf_pool) > 1:
            second = rng.choice(leaf_pool)
            if second != departments[0]:
                departments.append(second)
        users.append(
            {
                "userid": userid,
                "name": name,
                "departments": departments,
                "orders": [0] * len(departments),
                "is_leader": [1 if rng.random() < 0.06 else 0 for _ in departments],
                "position": rng.choice(names.POSITIONS),
                "mobile": mobile,
                "gender": rng.choice(("1", "2")),
                "email": f"{userid}@{domain}",
                # A few members never activated (status 4); they have no customers.
                "status": 4 if index > 0 and rng.random() < 0.02 else 1,
                "created_at": index,
            }
        )
    return users


def _tag_library(rng: random.Random, base: int) -> list[tuple[str, str, int, int, list[tuple]]]:
    groups = []
    for g_index, (group_name, tag_names) in enumerate(names.TAG_GROUPS):
        group_id = ids.tag_id(rng)
        created = base - rng.randint(100, 400) * DAY
        tag_rows = [
            (ids.tag_id(rng), t, len(tag_names) - i, created) for i, t in enumerate(tag_names)
        ]
        groups.append((group_id, group_name, len(names.TAG_GROUPS) - g_index, created, tag_rows))
    return groups


def _remark(rng: random.Random, customer: str) -> tuple[str, str, list[str], str]:
    remark = f"{customer}-{rng.choice(CITIES)}"[:20] if rng.random() < 0.4 else ""
    description = (
        f"{rng.choice(CITIES)}客户，关注{rng.choice(['价格', '售后', '交付', '功能'])}"
        if rng.random() < 0.15
        else ""
    )
    mobiles = (
        [
            "1" + rng.choice("3456789") + "".join(rng.choices("0123456789", k=9))
            for _ in range(rng.choice((1, 1, 2)))
        ]
        if rng.random() < 0.2
        else []
    )
    corp = rng.choice(names.COMPANIES)[:20] if rng.random() < 0.1 else ""
    return remark, description, mobiles, corp


def seed_corp(
    state: SimState,
    *,
    seed: int,
    departments: int,
    staff: int,
    customers: int,
    corpid: str | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    corp_name = rng.choice(names.COMPANIES)
    corp = state.create_corp(corpid=corpid, name=corp_name)
    corpid = corp["corpid"]
    base = int(state.clock.now() // DAY) * DAY  # a day boundary: reruns on the same day agree
    dept_rows = _departments(rng, max(departments, 1), corp_name)
    users = _staff(rng, staff, [d[0] for d in dept_rows], f"corp{seed}.example.com")
    library = _tag_library(rng, base)
    all_tags = [t[0] for g in library for t in g[4]]
    active = [u["userid"] for u in users if u["status"] == 1]
    weights = [rng.uniform(0.2, 3.0) for _ in active]  # some members have far more customers
    add_ways, add_weights = zip(*ADD_WAYS, strict=True)

    customer_rows, follow_rows, follow_tag_rows = [], [], []
    with state.store.read() as db:
        next_id = (db.execute("SELECT COALESCE(MAX(id), 0) FROM follows").fetchone()[0]) + 1
    for _ in range(customers if active else 0):
        ctype = 1 if rng.random() < 0.92 else 2
        ext = ids.external_userid(ctype, rng)
        cname = names.customer_name(rng)
        corp_for_customer = rng.choice(names.COMPANIES) if ctype == 2 else ""
        count = 1 if rng.random() < 0.85 or len(active) < 2 else rng.choice((2, 2, 3))
        members = rng.choices(active, weights=weights, k=1)
        if count > 1:
            members += [u for u in rng.sample(active, min(count, len(active))) if u != members[0]]
            members = members[:count]
        first_time = None
        for userid in members:
            createtime = base - rng.randint(0, 90 * DAY - 1)
            first_time = createtime if first_time is None else min(first_time, createtime)
            add_way = rng.choices(add_ways, weights=add_weights)[0]
            state_value = rng.choice(STATES) if add_way == 1 and rng.random() < 0.5 else ""
            oper = ext if add_way in (1, 4, 16) else userid
            remark, description, mobiles, remark_corp = _remark(rng, cname)
            status = "one_way" if rng.random() < 0.01 else "active"
            follow_rows.append(
                (
                    next_id,
                    corpid,
                    userid,
                    ext,
                    status,
                    remark,
                    description,
                    createtime,
                    remark_corp if ctype == 1 else "",
                    json.dumps(mobiles),
                    oper,
                    add_way,
                    state_value,
                )
            )
            k = rng.choices((0, 1, 2, 3, 4), weights=(25, 30, 25, 12, 8))[0]
            for tag_id in rng.sample(all_tags, k):
                follow_tag_rows.append((next_id, tag_id))
            next_id += 1
        customer_rows.append(
            (
                corpid,
                ext,
                cname,
                f"http://wx.qlogo.cn/mmhead/sim_{ext[-8:]}/0",
                ctype,
                rng.choice((0, 1, 2)),
                ids.unionid(rng) if ctype == 1 and rng.random() < 0.7 else "",
                rng.choice(names.POSITIONS) if ctype == 2 else "",
                corp_for_customer,
                corp_for_customer,
                first_time,
            )
        )

    way_ids = _write(
        state,
        corpid,
        base,
        dept_rows,
        users,
        library,
        customer_rows,
        follow_rows,
        follow_tag_rows,
        rng,
        active,
    )
    return {
        **corp,
        "seed": seed,
        "departments": len(dept_rows),
        "staff": len(users),
        "customers": len(customer_rows),
        "follows": len(follow_rows),
        "tags": len(all_tags),
        "contact_ways": way_ids,
    }


def _write(
    state,
    corpid,
    base,
    dept_rows,
    users,
    library,
    customer_rows,
    follow_rows,
    follow_tag_rows,
    rng,
    active,
) -> list[str]:
    way_ids: list[str] = []
    with state.tx() as db:
        db.execute("DELETE FROM departments WHERE corpid = ? AND id = 1", (corpid,))
        db.executemany(
            "INSERT INTO departments (corpid, id, name, parentid, sort) VALUES (?, ?, ?, ?, ?)",
            [(corpid, d[0], d[1], d[2], d[3]) for d in dept_rows],
        )
        db.executemany(
            "INSERT INTO users (corpid, userid, name, departments, orders, is_leader, "
            "main_department, position, mobile, gender, email, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    corpid,
                    u["userid"],
                    u["name"],
                    json.dumps(u["departments"]),
                    json.dumps(u["orders"]),
                    json.dumps(u["is_leader"]),
                    u["departments"][0],
                    u["position"],
                    u["mobile"],
                    u["gender"],
                    u["email"],
                    u["status"],
                    base - 200 * DAY + u["created_at"],
                )
                for u in users
            ],
        )
        for group_id, group_name, order, created, tag_rows in library:
            db.execute(
                "INSERT INTO tag_groups (corpid, group_id, name, sort, create_time, owner_agentid) "
                "VALUES (?, ?, ?, ?, ?, NULL)",
                (corpid, group_id, group_name, order, created),
            )
            db.executemany(
                "INSERT INTO tags (corpid, tag_id, group_id, name, sort, create_time, "
                "owner_agentid) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [(corpid, t[0], group_id, t[1], t[2], t[3]) for t in tag_rows],
            )
        db.executemany(
            "INSERT INTO customers (corpid, external_userid, name, avatar, type, gender, unionid, "
            "position, corp_name, corp_full_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            customer_rows,
        )
        db.executemany(
            "INSERT INTO follows (id, corpid, userid, external_userid, status, remark, description, "
            "createtime, remark_corp_name, remark_mobiles, oper_userid, add_way, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            follow_rows,
        )
        db.executemany("INSERT INTO follow_tags (follow_id, tag_id) VALUES (?, ?)", follow_tag_rows)
        if active:
            ways = [
                {
                    "type": 2,
                    "scene": 2,
                    "user": active[:3],
                    "skip_verify": True,
                    "state": "seed_multi",
                    "remark": "门店多人码",
                },
                {
                    "type": 1,
                    "scene": 2,
                    "user": active[:1],
                    "skip_verify": False,
                    "state": "seed_verify",
                    "remark": "需验证单人码",
                },
            ]
            for spec in ways:
                config_id = ids.config_id(rng)
                way = {
                    "config_id": config_id,
                    "style": 0,
                    "party": [],
                    "is_temp": False,
                    "expires_in": 0,
                    "chat_expires_in": 0,
                    "unionid": "",
                    "is_exclusive": False,
                    "mark_source": False,
                    "conclusions": {},
                    "created_at": base - DAY,
                    **spec,
                }
                db.execute(
                    "INSERT INTO contact_ways (corpid, config_id, created_at, data) "
                    "VALUES (?, ?, ?, ?)",
                    (corpid, config_id, base - DAY, json.dumps(way, ensure_ascii=False)),
                )
                way_ids.append(config_id)
    return way_ids
