"""The orders app's settings and their defaults (see `copilot.conf`); each can be set by an
environment variable of the same name."""

# The HTTP helper every order connector uses: retries of 429 and 5xx, with backoff.
ORDERS_HTTP_MAX_RETRIES = 2
ORDERS_HTTP_BACKOFF_SECONDS = 0.25
ORDERS_HTTP_BACKOFF_MAX_SECONDS = 4.0
# The per-source circuit breaker: this many failures in a row open it for this long.
ORDERS_CIRCUIT_FAILURES = 5
ORDERS_CIRCUIT_RESET_SECONDS = 30.0
# Pages of a customer's Shopify orders read at most per lookup.
ORDERS_SHOPIFY_MAX_PAGES = 3
# Order data older than this (a per-run memo, a cached carrier report) gets a `stale_data`
# finding: the model and the agent are told it may be out of date.
ORDERS_MAX_DATA_AGE_SECONDS = 600.0
