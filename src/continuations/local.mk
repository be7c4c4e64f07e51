# src/continuations — continuations: the paged memory tree, state digests,
# and (listed here to keep one fragment per owner) the segment prover,
# receipt codec and verifier in src/prover/{segment,segment_verify,receipt}.c.
# See docs/CONTINUATIONS.md.
utxoinclude_HEADERS += include/utxo/segments.h
noinst_HEADERS += src/continuations/memtree.h src/continuations/state.h \
	src/prover/receipt.h
libutxo_core_la_SOURCES += src/continuations/memtree.c src/continuations/state.c \
	src/prover/receipt.c src/prover/segment.c src/prover/segment_verify.c
