"""Placeholder CLI; replaced as the orchestrator grows."""
import sys

print("devstack: not implemented yet", sys.argv[1:])
