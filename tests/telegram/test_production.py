"""The production adapter: a real Kurigram client, configured for the kernel, feeding the app.

The update path runs pyrogram's real Dispatcher: raw updates go into its
queue exactly as the network layer puts them there; its workers parse them
and call the gateway's handlers, which hand kernel types to ``app.submit``.
Only connecting (``start``/``stop``/``get_me``) is replaced: there is no
network here.
"""

from __future__ import annotations

import random
import stat
from io import BytesIO
from typing import Any

import pyrogram
import pytest
from pyrogram import raw
from pyrogram import types as pt
from pyrogram.handlers import RawUpdateHandler
from pyrogram.raw.core import TLObject

from mediabot import (
    CallbackQuery,
    ChatMemberUpdated,
    ConfigError,
    InlineQuery,
    JoinRequest,
    Message,
    PreCheckoutQuery,
    create_app,
)
from mediabot.core.metrics import Metrics
from mediabot.core.telegram import FloodConfig, Gateway
from mediabot.core.telegram.production import create_production_gateway
from mediabot.testing import eventually

CREDENTIALS = {"MEDIABOT_API_ID": "12345", "MEDIABOT_API_HASH": "0123456789abcdef0123456789abcdef",
               "MEDIABOT_BOT_TOKEN": "12345:AAAA", "MEDIABOT_CALLBACK_SECRET": "k" * 32}
DATE = 1_717_171_717
ANN = raw.types.User(id=5001, access_hash=11, first_name="Ann")
BOT = raw.types.User(id=7000, access_hash=12, first_name="Bot", bot=True, is_self=True)
CHANNEL = raw.types.Channel(id=1_987_654_321, title="Movies", photo=raw.types.ChatPhotoEmpty(), date=DATE,
                            broadcast=True, access_hash=22)


def wire(obj: TLObject) -> Any:
    return TLObject.read(BytesIO(obj.write()))


def test_the_client_leaves_flood_waits_and_extra_requests_to_the_kernel(config_file, tmp_path):
    path = config_file(f'[telegram]\nsession_dir = "{tmp_path / "sessions"}"\nsession_name = "front"\n')
    app = create_app(path, env=CREDENTIALS, telegram_secrets=True)
    client = create_production_gateway(app).client
    assert isinstance(client, pyrogram.Client)
    assert client.sleep_threshold == 0
    assert not (client.fetch_replies or client.fetch_topics or client.fetch_stories or client.fetch_stickers)
    assert (client.api_id, client.bot_token, client.name) == (12345, "12345:AAAA", "front")
    assert not client.in_memory and client.workdir == tmp_path / "sessions"
    assert (tmp_path / "sessions").is_dir()
    assert client.skip_updates is False  # messages sent during a restart are answered


def test_pending_updates_can_be_skipped_on_request(config_file):
    app = create_app(config_file("[telegram]\nskip_pending_updates = true\n"), env=CREDENTIALS,
                     telegram_secrets=True)
    assert create_production_gateway(app).client.skip_updates is True


def test_the_session_lives_in_the_data_directory_readable_by_its_owner_only(config_file, tmp_path):
    app = create_app(config_file('[runtime]\ndata_dir = "state"\n'), env=CREDENTIALS, telegram_secrets=True)
    client = create_production_gateway(app).client
    session_dir = app.data_dir / "session"
    assert client.workdir == session_dir and session_dir.parent == tmp_path / "state"
    assert stat.S_IMODE(session_dir.stat().st_mode) == 0o700


def test_an_empty_session_dir_keeps_the_session_in_memory(config_file):
    app = create_app(config_file('[telegram]\nsession_dir = ""\n'), env=CREDENTIALS, telegram_secrets=True)
    assert create_production_gateway(app).client.in_memory


def test_a_non_numeric_api_id_is_a_config_error_before_anything_is_built(config_file):
    with pytest.raises(ConfigError, match="MEDIABOT_API_ID: not a Telegram API id"):
        create_app(config_file(""), env={**CREDENTIALS, "MEDIABOT_API_ID": "abc"}, telegram_secrets=True)


class OfflineClient(pyrogram.Client):
    """A real client whose connection is replaced: its dispatcher and parsers are pyrogram's."""

    async def start(self, *, use_qr: bool = False, except_ids: list[int] | None = None) -> OfflineClient:
        await self.dispatcher.start()
        return self

    async def stop(self, block: bool = True, clear_handlers: bool = True) -> OfflineClient:
        await self.dispatcher.stop(clear_handlers)
        return self

    async def get_me(self) -> pt.User:
        return await pt.User._parse(self, wire(BOT))


class SubmitRecorder:
    """Stands in for the App: the gateway only needs ``submit`` and ``metrics`` here."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.updates: list[Any] = []

    def submit(self, update: Any) -> None:
        self.updates.append(update)

    async def wait_for(self, count: int) -> list[Any]:
        return await eventually(lambda: self.updates, lambda got: len(got) >= count, what=f"{count} updates")


@pytest.fixture
async def running():
    client = OfflineClient(name="offline", api_id=1, api_hash="0" * 32, in_memory=True, workers=2,
                           sleep_threshold=0, fetch_replies=False, fetch_topics=False, fetch_stories=False,
                           fetch_stickers=False)
    gateway = Gateway(client, config=FloodConfig(), rng=random.Random(1))
    app = SubmitRecorder()
    await gateway.start(app)  # type: ignore[arg-type]
    yield client, gateway, app
    await gateway.stop_updates()
    await gateway.close()


def feed(client: pyrogram.Client, update: TLObject, users=(ANN, BOT), chats=()) -> None:
    client.dispatcher.updates_queue.put_nowait(
        (wire(update), {u.id: wire(u) for u in users}, {c.id: wire(c) for c in chats}))


async def test_messages_posts_presses_and_inline_queries_reach_the_app(running):
    client, gateway, app = running
    assert gateway.me is not None and gateway.me.is_bot
    feed(client, raw.types.UpdateNewMessage(
        message=raw.types.Message(id=1, peer_id=raw.types.PeerUser(user_id=ANN.id),
                                  from_id=raw.types.PeerUser(user_id=ANN.id), date=DATE, message="/start"),
        pts=1, pts_count=1))
    feed(client, raw.types.UpdateNewChannelMessage(
        message=raw.types.Message(id=9, peer_id=raw.types.PeerChannel(channel_id=CHANNEL.id), date=DATE,
                                  message="New film", post=True),
        pts=1, pts_count=1), chats=(CHANNEL,))
    (message, post) = await app.wait_for(2)
    assert isinstance(message, Message) and message.command == ("start", "")
    assert isinstance(post, Message) and post.is_channel_post and post.text == "New film"

    # The bot's own message with the button is in the client's cache, as after a real send.
    sent = raw.types.Message(id=2, peer_id=raw.types.PeerUser(user_id=ANN.id), out=True,
                             from_id=raw.types.PeerUser(user_id=BOT.id), date=DATE, message="menu")
    await pt.Message._parse(client, wire(sent), {u.id: wire(u) for u in (ANN, BOT)}, {})
    feed(client, raw.types.UpdateBotCallbackQuery(query_id=77, user_id=ANN.id,
                                                  peer=raw.types.PeerUser(user_id=ANN.id), msg_id=2,
                                                  chat_instance=1, data=b"v1|x"))
    feed(client, raw.types.UpdateBotInlineQuery(query_id=78, user_id=ANN.id, query="dune", offset=""))
    _, _, press, inline = await app.wait_for(4)
    assert isinstance(press, CallbackQuery) and press.data == "v1|x" and press.message.text == "menu"
    assert isinstance(inline, InlineQuery) and inline.query == "dune"


GROUP = raw.types.Chat(id=4242, title="Friends", photo=raw.types.ChatPhotoEmpty(), participants_count=3, date=DATE,
                       version=1)
LINK = raw.types.ChatInviteExported(link="https://t.me/+AbCd", admin_id=BOT.id, date=DATE, request_needed=True,
                                    title="website")


async def test_a_user_joining_a_channel_and_the_bot_leaving_a_group_reach_the_app(running):
    client, _gateway, app = running
    feed(client, raw.types.UpdateChannelParticipant(
        channel_id=CHANNEL.id, date=DATE, actor_id=ANN.id, user_id=ANN.id, qts=1,
        new_participant=raw.types.ChannelParticipant(user_id=ANN.id, date=DATE), invite=LINK), chats=(CHANNEL,))
    feed(client, raw.types.UpdateChatParticipant(
        chat_id=GROUP.id, date=DATE, actor_id=ANN.id, user_id=BOT.id, qts=2,
        prev_participant=raw.types.ChatParticipant(user_id=BOT.id, inviter_id=ANN.id, date=DATE)), chats=(GROUP,))
    joined, removed = await app.wait_for(2)
    assert isinstance(joined, ChatMemberUpdated) and joined.joined and not joined.is_bot
    assert (joined.chat.id, joined.user.id, joined.actor.id) == (-1001987654321, ANN.id, ANN.id)
    assert (joined.old_status, joined.new_status, joined.date) == ("left", "member", DATE)
    assert joined.invite_link is not None and joined.invite_link.link == "https://t.me/+AbCd"
    assert joined.invite_link.name == "website" and joined.invite_link.creates_join_request
    assert isinstance(removed, ChatMemberUpdated) and removed.is_bot and removed.left
    assert (removed.chat.id, removed.chat.type, removed.actor.id) == (-4242, "group", ANN.id)


async def test_join_requests_pre_checkouts_and_payments_reach_the_app(running):
    client, _gateway, app = running
    feed(client, raw.types.UpdateBotChatInviteRequester(
        peer=raw.types.PeerChannel(channel_id=CHANNEL.id), date=DATE, user_id=ANN.id, about="film buff",
        invite=LINK, qts=3), chats=(CHANNEL,))
    feed(client, raw.types.UpdateBotPrecheckoutQuery(query_id=91, user_id=ANN.id, payload=b"premium:30d",
                                                     currency="XTR", total_amount=50))
    feed(client, raw.types.UpdateNewMessage(message=raw.types.MessageService(
        id=3, peer_id=raw.types.PeerUser(user_id=ANN.id), from_id=raw.types.PeerUser(user_id=ANN.id), date=DATE,
        action=raw.types.MessageActionPaymentSentMe(
            currency="XTR", total_amount=50, payload=b"premium:30d",
            charge=raw.types.PaymentCharge(id="stx123", provider_charge_id=""))), pts=2, pts_count=1))
    request, query, paid = await app.wait_for(3)
    assert isinstance(request, JoinRequest) and request.bio == "film buff" and request.from_user.id == ANN.id
    assert request.chat.id == -1001987654321 and request.invite_link.link == "https://t.me/+AbCd"
    assert isinstance(query, PreCheckoutQuery) and (query.id, query.currency, query.total_amount) == ("91", "XTR", 50)
    assert query.invoice_payload == "premium:30d" and query.sender_id == ANN.id
    assert isinstance(paid, Message) and paid.payment is not None and paid.text is None
    assert (paid.payment.telegram_payment_charge_id, paid.payment.invoice_payload) == ("stx123", "premium:30d")


async def test_after_stop_updates_nothing_more_is_taken(running):
    client, gateway, app = running
    seen: list[Any] = []

    async def witness(_client, update, _users, _chats):
        seen.append(update)

    # A raw handler in a later group runs after group 0 had its chance at the update.
    client.add_handler(RawUpdateHandler(witness), group=1)
    await eventually(lambda: 1 in client.dispatcher.groups)
    await gateway.stop_updates()
    feed(client, raw.types.UpdateBotInlineQuery(query_id=79, user_id=ANN.id, query="late", offset=""))
    await eventually(lambda: seen)
    assert app.updates == []
