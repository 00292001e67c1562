"""The watch page: a live run seen and steered from a browser (issue 19)."""
