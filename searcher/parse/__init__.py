"""What the user typed, read into a query: query reading, the parsed query, CJK, filters."""
