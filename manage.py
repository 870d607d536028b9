#!/usr/bin/env python
"""Django's command-line entry point for the supplier portal."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    from portal import correlation

    # A command run (an import, an export) is one piece of work: its audit rows, events and log
    # lines share one correlation id (CORRELATION_ID from the caller's job, if it gives one).
    correlation.enter(os.environ.get("CORRELATION_ID"))
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
