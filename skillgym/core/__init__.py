"""The task contract every layer above builds on: array helpers, the simulator snapshot, robots,
privileges as data, the `Task` interface and shared reward terms. Imports nothing above it."""
