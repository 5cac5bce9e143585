"""Stage 4, the views: a layered picture (:mod:`.draw`) and an interactive page
(:mod:`.page`) of a graph, both placed by :mod:`.layout` and coloured by :mod:`.palette`."""
