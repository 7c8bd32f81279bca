from collections.abc import Iterator

import pytest
import respx
from fake_github import FakeGitHub


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with respx.mock(assert_all_called=False) as router:
        router.route(host="api.github.test").mock(side_effect=fake.handle)
        yield fake
