"""The on-disk index format: schema, store, segment writing, flat postings, merges, whoosh's door."""
