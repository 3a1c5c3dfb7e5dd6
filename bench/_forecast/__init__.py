"""Parts of ``bench/forecast.py``: its rows (:mod:`.rows`) and its scoring (:mod:`.scoring`)."""
