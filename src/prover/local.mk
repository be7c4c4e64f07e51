# src/prover — proving and proof checking: block proof bundles, segment
# receipts (prover, codec, verifier) (docs/STATELESS.md,
# docs/CONTINUATIONS.md). The stateless validator is an adapter over the
# block-connection core in src/connect.
libutxo_core_la_SOURCES += \
	src/prover/blockproof.c \
	src/prover/checkpoint.c \
	src/prover/receipt.c \
	src/prover/segment.c \
	src/prover/segment_verify.c
noinst_HEADERS += src/prover/blockproof.h src/prover/receipt.h
utxoinclude_HEADERS += include/utxo/stateless.h
