"""sclm (curated API assembled once the stage modules land)."""
