from tests.api.conftest import _english, api_as, world  # noqa: F401  (the API tests' two corps)
