"""Every side effect of medpipe: one module per concern, classes with injected dependencies."""
