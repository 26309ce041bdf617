"""Audio data: reading and writing audio, datasets from folders, caches, and the piano corpus."""
