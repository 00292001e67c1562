"""What a run leaves behind: the run directory recorder, the HTML report, replay, image hashing."""
