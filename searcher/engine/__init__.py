"""A query into ranked passages: search, ranking, phrases, expansion, statistics, several indexes."""
