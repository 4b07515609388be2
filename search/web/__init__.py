"""The web service: the JSON API, the search page and what they share."""
