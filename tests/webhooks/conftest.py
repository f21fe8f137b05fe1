"""Webhook tests run with loopback endpoints allowed (the receiver listens on 127.0.0.1)."""

import pytest

from service.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", demo_data=False, webhooks_allow_loopback=True)
