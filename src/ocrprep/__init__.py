"""ocrprep."""
