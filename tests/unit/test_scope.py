"""Scope keys: every selection gets its own marker, whatever its project keys are."""

from reconciler.scope import Scope


def test_a_project_named_like_a_shard_never_shares_a_shards_key() -> None:
    dotted = Scope.of(None, ["web.shard-1-of-2"])
    sharded = Scope.of((1, 2), ["web"])
    assert dotted.key != sharded.key
    assert dotted.key.startswith("projects-sha256-")


def test_plain_keys_stay_readable_and_distinct() -> None:
    assert Scope.of(None, ["web", "api"]).key == "projects-api+web"
    assert Scope.of((2, 3), []).key == "shard-2-of-3"
    assert Scope.of((2, 3), ["web"]).key == "projects-web.shard-2-of-3"
    assert Scope.of(None, []).key == ""
