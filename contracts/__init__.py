"""Pydantic contracts shared by workflows, activities and the CLI.

This package is the only cross-layer import: workflows, activities and
processes all speak through these models, never through each other's types.
"""
