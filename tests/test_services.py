"""What the app lifespan opens, as the settings choose it."""

from __future__ import annotations

from gateway.services import redis_config
from gateway.settings import Settings


def test_redis_is_used_only_when_its_url_is_set() -> None:
    assert redis_config(Settings()) is None


def test_each_process_knows_how_many_share_the_budget_and_the_url_stays_secret() -> None:
    settings = Settings(
        GATEWAY_REDIS_URL="redis://:hunter2@redis.internal:6379/0",
        GATEWAY_REPLICAS="3",
        GATEWAY_WORKERS="2",
        GATEWAY_REDIS_PREFIX="contacts:",
        GATEWAY_REDIS_TIMEOUT="0.1",
    )
    config = redis_config(settings)
    assert config is not None
    assert config.url == "redis://:hunter2@redis.internal:6379/0"
    assert (config.prefix, config.timeout, config.processes) == ("contacts:", 0.1, 6)
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(config)
