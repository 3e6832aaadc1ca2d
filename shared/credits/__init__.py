"""Credits: what a job costs, reserving it at submit, charging or refunding it when the job ends."""
