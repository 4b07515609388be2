"""PressLens search: reads an index built by the indexer and answers queries."""
