"""The job core every route family and trigger shares: store, queue, submit, process."""
