"""PostgreSQL puts tables, indexes and unique constraints in one namespace: a constraint named like a
table breaks `migrate` there (it happened: acquisition_linksettings), while SQLite doesn't notice."""

from django.apps import apps


def test_no_index_or_constraint_is_named_like_a_table():
    tables = {model._meta.db_table for model in apps.get_models()}
    clashes = [
        (model._meta.label, item.name)
        for model in apps.get_models()
        for item in [*model._meta.constraints, *model._meta.indexes]
        if item.name in tables
    ]
    assert clashes == []
