import pytest

from tests.console.world import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    """Log the test client in as one of the world's users (by key) and return it."""

    def login(key: str):
        client.force_login(world.users[key])
        return client

    return login
