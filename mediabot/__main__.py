from mediabot.cli import main

main()
