"""The orders app's settings, read through `copilot.conf`."""

from copilot.conf import AppSettings
from orders import defaults

conf = AppSettings(defaults)
