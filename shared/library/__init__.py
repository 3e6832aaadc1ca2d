"""The image library and the public gallery, read from the outputs of succeeded jobs."""
