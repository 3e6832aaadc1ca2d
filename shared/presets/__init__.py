"""Presets: storage, template rendering, and the uploads that fill their file requirements."""
