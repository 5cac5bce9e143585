"""The shell around the library: the ``edgenet`` command (:mod:`.cli`), its demo
(:mod:`.demo`) and progress bars for long steps (:mod:`.progress`)."""
