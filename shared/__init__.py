"""The image-generation service: everything `function_app.py` wires together."""
