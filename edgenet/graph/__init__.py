"""Stage 1, the graph: build a network (:mod:`.network`, :mod:`.wiring`), find and break
its cycles (:mod:`.cycles`) and validate what every later stage reads from it
(:mod:`.validate`)."""
