"""Queue and timer triggers, one blueprint each."""
