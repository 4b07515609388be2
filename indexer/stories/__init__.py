"""Stories: duplicate and related articles found and grouped as the index changes."""
