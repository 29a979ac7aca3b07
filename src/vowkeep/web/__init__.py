"""The web face of vowkeep: the JSON API, the notice pages, the privacy centre and the console."""
