"""Objects in: the kinds registry, manifest loading, schema and semantic validation with field paths."""
