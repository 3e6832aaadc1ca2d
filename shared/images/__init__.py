"""Image bytes: inspection and Blob Storage."""
