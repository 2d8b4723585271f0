"""Deployment: export a policy with what a control loop needs, and a loop that runs it."""
