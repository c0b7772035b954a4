"""Names of the waffle flags and switches the copilot reads."""

FETCH_ORDERS = "fetch_orders"
# A waffle switch: when on, no tool is offered to any model on any brand.
KILL_SWITCH = "copilot_kill_switch"

# Each gated tool and the flag that offers it.
TOOL_FLAGS: dict[str, str] = {"fetch_orders": FETCH_ORDERS}
