"""Chaos exercises on a non-production fleet (``medpipe chaos run|schedule|report``)."""
