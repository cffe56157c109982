"""The install guide says what the code needs: every Commerce permission the doctor checks, every step that makes
Commerce's hooks fire, and every setting the bridge reads (read from the source, so neither drifts alone)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_commerce_permission_the_doctor_checks_is_in_the_guide() -> None:
    doctor = (ROOT / "bridge" / "cli" / "doctor.py").read_text(encoding="utf-8")
    resources = set(re.findall(r"Magento_\w+::\w+", doctor))
    assert {"Magento_Sales::api_actions", "Magento_Sales::comment"} <= resources
    assert resources <= set(re.findall(r"Magento_\w+::\w+", GUIDE))


def test_the_guide_has_every_step_that_makes_the_hooks_fire() -> None:
    for step in ("webhooks:generate:module", "module:enable Magento_AdobeCommerceWebhookPlugins", "setup:upgrade",
                 "setup:di:compile", "ENABLE_WEBHOOKS: true"):  # fmt: skip
        assert step in GUIDE, step


def test_every_setting_the_bridge_reads_is_documented() -> None:
    """Every variable named in the settings and in gunicorn's configuration has its line in the README."""
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "bridge" / "settings.py", ROOT / "config" / "gunicorn.conf.py")
    )
    prefixes = "BRIDGE|COMMERCE|LWA|SPAPI|GUNICORN|PROMETHEUS|WEB"
    read = set(re.findall(rf"[\"']((?:{prefixes})_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL|PORT)[\"']", source))
    assert {"DATABASE_URL", "BRIDGE_METRICS_TOKEN", "BRIDGE_HOME", "BRIDGE_FEED_MAX_MESSAGES", "PORT"} <= read
    assert sorted(name for name in read if not re.search(rf"`{name}\b", README)) == []
