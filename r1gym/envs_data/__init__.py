"""Data the environments ship: word-problem templates and first names (installed as r1gym.envs_data)."""
