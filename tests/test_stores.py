"""Both stores implement one interface: every member of `DocumentStore` and `ConversationStore`,
with the same parameters (checked on the classes, so no database is needed here; test_postgres runs
the same library and session tests on a real PostgreSQL)."""
import inspect

import pytest

from qa.index import Index as EmbeddedIndex
from qa.store import ConversationStore, DocumentStore
from qa.postgres import Index as PostgresIndex
from qa.postgres import Sessions as PostgresSessions
from qa.store.sessions import SessionStore


def members(protocol) -> dict:
    return {n: getattr(protocol, n) for n in protocol.__dict__ if not n.startswith("_") and callable(getattr(protocol, n))}


@pytest.mark.parametrize("protocol,classes", [(DocumentStore, (EmbeddedIndex, PostgresIndex)),
                                              (ConversationStore, (SessionStore, PostgresSessions))])
def test_both_stores_implement_the_protocol(protocol, classes):
    for cls in classes:
        for name, declared in members(protocol).items():
            assert callable(getattr(cls, name, None)), f"{cls.__module__}.{cls.__name__} lacks {name}"
            want = list(inspect.signature(declared).parameters)
            got = list(inspect.signature(getattr(cls, name)).parameters)
            assert got == want, f"{cls.__module__}.{cls.__name__}.{name}{got} is not {name}{want}"


def test_an_opened_index_is_a_document_store(seed_index):
    from qa.library import load

    assert isinstance(load(seed_index), DocumentStore)
