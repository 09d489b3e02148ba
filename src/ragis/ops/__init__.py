"""Operator commands: backup, restore and doctor, run on the machine that runs ragis."""
