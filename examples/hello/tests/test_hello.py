from mediabot_hello import Hello


async def test_hello_greets_by_name_and_counts(make_bot):
    bot = await make_bot(plugins=[Hello], config='[plugins.hello]\ngreeting = "Hi"')
    reply = (await bot.send("/hello Ann", user=1)).last
    assert reply.text == "Hi, Ann! (greeting #1)"
    pressed = await bot.press(reply, "Again", user=1)
    assert pressed.texts == ["Hi, Ann! (greeting #2)"]


async def test_another_user_cannot_press_my_button(make_bot):
    bot = await make_bot(plugins=[Hello])
    reply = (await bot.send("/hello", user=1)).last
    assert (await bot.press(reply, "Again", user=2)).answer.text == "This button has expired."
