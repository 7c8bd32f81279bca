"""A pipeline listing as the sandbox shapes it, against a hand-written expectation: shared
environment summaries, an environment that no longer exists, newer fields at each level."""

from reconciler.sandbox.representations import pipeline, pipeline_collection

PROJECT = {
    "key": "web", "defaultReleasePipelineKey": "b",
    "environments": {"test": {"key": "test", "name": "Test", "color": "F5A623", "_id": "e1"}},
    "newerFields": {"pipeline": ["hint"], "audience": ["tier"]},
}


def record(key: str, **extra: object) -> dict:
    return {"key": key, "name": key.upper(), "tags": ["t"], "_version": 2, "_isLegacy": False,
            "createdAt": "2026-11-30T00:00:00Z", **extra,
            "phases": [{"id": "p1", "name": "One", "audiences": [
                {"name": "A", "environmentKey": "test", "segmentKeys": ["s"], "tier": "gold"},
                {"name": "B", "environmentKey": "gone", "configuration": {"x": 1}},
                {"name": "C", "environmentKey": "test"}]}]}


def shaped(key: str, *, default: bool, newer: bool = True, **extra: object) -> dict:
    summary = {"_links": {"self": {"href": "/api/v2/projects/web/environments/test",
                                   "type": "application/json"}},
               "key": "test", "name": "Test", "color": "F5A623"}
    return {"createdAt": "2026-11-30T00:00:00Z", "key": key, "name": key.upper(),
            "phases": [{"id": "p1", "name": "One", "audiences": [
                {"name": "A", "environment": summary, "segmentKeys": ["s"],
                 **({"tier": "gold"} if newer else {})},
                {"name": "B", "configuration": {"x": 1}},
                {"name": "C", "environment": summary}], "configuration": {}}],
            "tags": ["t"], "_version": 2, "_access": {"denied": [], "allowed": []},
            "isProjectDefault": default, "_isLegacy": False, **extra}


def test_a_listing_shapes_every_pipeline_as_launchdarkly_does() -> None:
    records = [record("a", description="D", hint=[1]), record("b", other="not newer")]
    assert pipeline_collection(PROJECT, records, 7) == {
        "items": [shaped("a", default=False, description="D", hint=[1]),
                  shaped("b", default=True)],
        "totalCount": 7,
    }
    assert pipeline(PROJECT, records[1]) == shaped("b", default=True)
    assert pipeline({**PROJECT, "newerFields": {}}, record("a", hint=1)) == shaped(
        "a", default=False, newer=False)
