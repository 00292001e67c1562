"""The pytest plugin's parts: fixtures, cassettes, screen checks and the summary line."""
