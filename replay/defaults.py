"""The replay app's settings and their defaults (see `copilot.conf`); each can be set by an
environment variable of the same name."""

# Tickets a replay task (or, without workers, one progress poll) replays at a time.
REPLAY_CHUNK_SIZE = 25
