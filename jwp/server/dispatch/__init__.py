"""Taking jobs from queues and the RDB, running them in channel slots, recording outcomes."""
