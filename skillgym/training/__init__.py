"""Training: PPO on the CPU backend (Stable-Baselines3), PPO on MJX (torch on the device), and
DAgger from a scripted controller, all writing the checkpoints of `skillgym.policies`."""
