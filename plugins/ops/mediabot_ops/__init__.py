"""mediabot-ops: health, metrics and operator tools."""

from __future__ import annotations

import msgspec

from mediabot import PluginContext, PluginMeta, Secret


class OpsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings of ``[plugins.ops]``.

    :param http_host: address of the health and metrics HTTP server (keep it private).
    :param http_port: its port; ``0`` disables the server.
    :param release_dir: where signed releases are unpacked for update and rollback.
    """

    http_host: str = "127.0.0.1"
    http_port: int = 9464
    release_dir: str = "releases"


class OpsPlugin:
    meta = PluginMeta(
        name="ops",
        description="/healthz, /readyz and Prometheus /metrics, admin tools, signed update and rollback.",
        config=OpsConfig,
        secrets=(Secret(env="MEDIABOT_UPDATE_PUBLIC_KEY",
                        description="public key that release signatures are verified with",
                        required=False),),
        optional=True,
    )

    def __init__(self, ctx: PluginContext) -> None:
        self.config: OpsConfig = ctx.config
