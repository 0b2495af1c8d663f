"""The shop-floor terminal: dispatch lists, start/pause/finish, production reports."""
