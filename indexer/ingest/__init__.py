"""Reading what was collected: files, feeds and crawls, cleaned and cut into passages."""
