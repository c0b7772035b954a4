"""The replay app's settings, read through `copilot.conf`."""

from copilot.conf import AppSettings
from replay import defaults

conf = AppSettings(defaults)
