"""Writes of the tps app, one module per concept.

Every user action (generate, submit, accept, return a list; save an election;
plan a TPS) is one keyword-only function here, called alike by the admin,
views, commands, background tasks and tests.
"""
