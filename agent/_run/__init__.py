"""One run of the agent loop: the loop, its stages and the `RunContext` they share."""
