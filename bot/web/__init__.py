"""Plain HTTP routes of the bot's web server, besides the Bot Framework endpoint."""
