# src/continuations — the paged memory tree and state digests that segments
# are cut from (docs/CONTINUATIONS.md).
utxoinclude_HEADERS += include/utxo/segments.h
noinst_HEADERS += src/continuations/memtree.h src/continuations/state.h
libutxo_core_la_SOURCES += src/continuations/memtree.c src/continuations/state.c
