# src/prover — proving and proof checking: block proof bundles, segment
# receipts (prover, codec, verifier) and the stateless validator
# (docs/STATELESS.md, docs/CONTINUATIONS.md).
libutxo_core_la_SOURCES += \
	src/prover/blockproof.c \
	src/prover/stateless.c \
	src/prover/receipt.c \
	src/prover/segment.c \
	src/prover/segment_verify.c
noinst_HEADERS += src/prover/blockproof.h src/prover/receipt.h
utxoinclude_HEADERS += include/utxo/stateless.h
