"""Groups and channels through the gateway: who joins and leaves, invite links, join requests, the bot's own membership."""

from __future__ import annotations

import pytest
from pyrogram.errors import HideRequesterMissing, InviteHashExpired, InviteRequestSent, UserAlreadyParticipant

from mediabot import ChatMemberUpdated, JoinRequest
from mediabot.core.telegram import PermanentTelegramError

CHANNEL = -1001700000001
GROUP = -4242
ANN, BOB = 5001, 5002


async def test_a_user_joining_by_a_link_and_leaving_reaches_the_app(gateway, fake, received):
    fake.add_chat(CHANNEL, "channel", title="Films")
    link = await gateway.create_invite_link(CHANNEL, name="from the website")
    await fake.user_joins(CHANNEL, ANN, link=link.link)
    await fake.user_leaves(CHANNEL, ANN)
    joined, left = received.of(ChatMemberUpdated)
    assert joined.joined and not joined.left and joined.user.id == ANN and joined.actor.id == ANN
    assert (joined.old_status, joined.new_status) == ("left", "member")
    assert joined.chat.id == CHANNEL and joined.chat.title == "Films" and not joined.is_bot
    assert joined.invite_link is not None and joined.invite_link.link == link.link
    assert joined.invite_link.name == "from the website"
    assert left.left and (left.old_status, left.new_status) == ("member", "left") and left.sender_id == ANN


async def test_basic_groups_report_joins_too(gateway, fake, received):
    fake.add_chat(GROUP, "group")
    await fake.user_joins(GROUP, BOB)
    (update,) = received.of(ChatMemberUpdated)
    assert update.joined and update.chat.type == "group" and update.user.id == BOB


async def test_the_member_count_and_a_members_status(gateway, fake):
    fake.add_chat(CHANNEL, "channel")
    await fake.user_joins(CHANNEL, ANN)
    await fake.user_joins(CHANNEL, BOB)
    assert await gateway.member_count(CHANNEL) == 3  # the bot counts
    member = await gateway.get_member(CHANNEL, ANN)
    assert member.status == "member" and member.in_chat and member.user.id == ANN
    await fake.user_leaves(CHANNEL, ANN)
    gone = await gateway.get_member(CHANNEL, ANN)
    assert gone.status == "left" and not gone.in_chat
    assert await gateway.member_count(CHANNEL) == 2
    assert (await gateway.get_member(CHANNEL, fake.world.bot_id)).status == "administrator"


async def test_a_private_chat_has_no_member_count(gateway):
    with pytest.raises(ValueError, match="belongs to a user"):
        await gateway.member_count(ANN)


async def test_a_revoked_link_lets_nobody_in(gateway, fake):
    fake.add_chat(CHANNEL, "channel")
    link = await gateway.create_invite_link(CHANNEL)
    revoked = await gateway.revoke_invite_link(CHANNEL, link.link)
    assert revoked.is_revoked and revoked.link == link.link
    with pytest.raises(InviteHashExpired):
        await fake.user_joins(CHANNEL, ANN, link=link.link)
    assert ANN not in fake.members.get(CHANNEL, set())
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.revoke_invite_link(CHANNEL, "https://t.me/+nosuchlink")
    assert isinstance(raised.value.original, InviteHashExpired)


async def test_a_join_request_is_answered_once(gateway, fake, received):
    fake.add_chat(CHANNEL, "channel")
    link = await gateway.create_invite_link(CHANNEL, creates_join_request=True)
    assert link.creates_join_request
    with pytest.raises(InviteRequestSent):  # such a link never lets anyone straight in
        await fake.user_joins(CHANNEL, ANN, link=link.link)
    await fake.join_request(CHANNEL, ANN, link.link, bio="I love films")
    (request,) = received.of(JoinRequest)
    assert (request.chat.id, request.from_user.id, request.bio) == (CHANNEL, ANN, "I love films")
    assert request.invite_link is not None and request.invite_link.link == link.link and request.date > 0
    await gateway.approve_join_request(CHANNEL, ANN)
    assert ANN in fake.members[CHANNEL] and fake.join_answers[(CHANNEL, ANN)] == "approved"
    (joined,) = received.of(ChatMemberUpdated)
    assert joined.joined and joined.user.id == ANN and joined.actor.id == fake.world.bot_id
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.approve_join_request(CHANNEL, ANN)
    assert isinstance(raised.value.original, HideRequesterMissing)
    with pytest.raises(PermanentTelegramError):
        await gateway.decline_join_request(CHANNEL, ANN)


async def test_a_declined_request_leaves_the_user_out(gateway, fake):
    fake.add_chat(CHANNEL, "channel")
    link = await gateway.create_invite_link(CHANNEL, creates_join_request=True)
    await fake.join_request(CHANNEL, BOB, link.link)
    await gateway.decline_join_request(CHANNEL, BOB)
    assert BOB not in fake.members.get(CHANNEL, set()) and fake.join_answers[(CHANNEL, BOB)] == "declined"
    assert (await gateway.get_member(CHANNEL, BOB)).status == "left"


async def test_a_link_cannot_both_ask_and_limit(gateway, fake):
    fake.add_chat(CHANNEL, "channel")
    with pytest.raises(ValueError, match="join requests"):
        await gateway.create_invite_link(CHANNEL, creates_join_request=True, member_limit=5)
    assert fake.calls_of("create_chat_invite_link") == []


async def test_a_member_limited_link_expires_when_used_up(gateway, fake):
    fake.add_chat(CHANNEL, "channel")
    link = await gateway.create_invite_link(CHANNEL, member_limit=1)
    assert link.member_limit == 1
    await fake.user_joins(CHANNEL, ANN, link=link.link)
    with pytest.raises(InviteHashExpired):
        await fake.user_joins(CHANNEL, BOB, link=link.link)
    with pytest.raises(UserAlreadyParticipant):
        await fake.user_joins(CHANNEL, ANN)


async def test_the_bot_added_to_a_group_then_removed(gateway, fake, received):
    fake.add_chat(GROUP, "group", title="Friends")
    await fake.bot_removed(GROUP, by=ANN)
    await fake.user_joins(GROUP, BOB)  # a bot outside the chat hears nothing of others
    await fake.bot_added(GROUP, by=ANN, status="member")
    removed, added = received.of(ChatMemberUpdated)
    assert removed.is_bot and removed.left and removed.actor.id == ANN
    assert added.is_bot and added.joined and added.new_status == "member" and added.chat.title == "Friends"


async def test_a_bot_that_is_no_admin_hears_only_of_itself(gateway, fake, received):
    fake.add_chat(CHANNEL, "channel")
    await fake.bot_added(CHANNEL, by=ANN, status="member")
    await fake.user_joins(CHANNEL, BOB)
    (only,) = received.of(ChatMemberUpdated)
    assert only.is_bot
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.create_invite_link(CHANNEL)
    assert raised.value.reason == "forbidden"


async def test_leaving_a_chat_ends_writing_there(gateway, fake, received):
    fake.add_chat(GROUP, "group")
    await gateway.send_text(GROUP, "bye")
    await gateway.leave_chat(GROUP)
    (left,) = received.of(ChatMemberUpdated)
    assert left.is_bot and left.left and left.actor.id == fake.world.bot_id
    with pytest.raises(PermanentTelegramError) as raised:
        await gateway.send_text(GROUP, "still here?")
    assert raised.value.reason == "forbidden"
    with pytest.raises(PermanentTelegramError):
        await gateway.leave_chat(GROUP)  # not a participant any more
