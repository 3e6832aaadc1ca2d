"""HTTP route families, one blueprint each."""
