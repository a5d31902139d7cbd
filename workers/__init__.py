"""Processes: workers, the CLI, the local dev stack, the codec server and the gateway."""
