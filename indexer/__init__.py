"""PressLens indexer: reads collected articles and builds the index that search reads."""
