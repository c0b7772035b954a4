"""The copilot app's settings and their defaults (see `copilot.conf`); each can be set by
an environment variable of the same name."""

# The draft engine.
COPILOT_PROVIDER = "rules"  # "rules" (offline fixed workflow) or "openai"
COPILOT_MAX_ITERATIONS = 4  # model turns per draft before the run stops (loop_limit)
COPILOT_RUN_DEADLINE_SECONDS = 60.0  # one run, all turns and tools included
COPILOT_TOOL_TIMEOUT_SECONDS = 10.0  # one tool call
COPILOT_MAX_TICKET_CHARS = 8000  # longer tickets are cut before they reach the model

# Intake: the API and the helpdesk webhooks.
COPILOT_INTAKE_MAX_BYTES = 256 * 1024  # a larger body is refused
COPILOT_WEBHOOK_TOLERANCE_SECONDS = 300  # signed webhooks further from our clock are refused

# Replies written back to the helpdesk.
COPILOT_HELPDESK_MAX_ATTEMPTS = 6
COPILOT_HELPDESK_RETRY_BASE_SECONDS = 30.0
COPILOT_HELPDESK_RETRY_MAX_SECONDS = 900.0
# How long one delivery attempt owns its outbox row; a dead worker's row is retried after it.
COPILOT_HELPDESK_LEASE_SECONDS = 120.0

# Drafts that lost their worker: one left generating this long after its last change, or
# pending this long without reaching a worker, is taken over by the sweeper.
COPILOT_DRAFT_STUCK_SECONDS = 150.0
COPILOT_DRAFT_PENDING_SECONDS = 60.0

# The inbox's counts per state are cached this long (new tickets and drafts show at once).
COPILOT_INBOX_COUNTS_SECONDS = 5

# The model provider (`openai`): any OpenAI-compatible server.
OPENAI_API_KEY = ""
OPENAI_BASE_URL = ""  # empty: OpenAI's own
OPENAI_MODEL = "gpt-4o-mini"
OPENAI_TIMEOUT_SECONDS = 30.0  # per model call, never the SDK's 10-minute default
OPENAI_MAX_RETRIES = 2
OPENAI_MAX_TOKENS = 800
