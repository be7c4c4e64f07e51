# src/prover — block proofs and receipts. Each part keeps to its own marked
# section; re-read before editing.

# stateless: block proof bundles, the stateless validator, the in-memory
# chain builder (docs/STATELESS.md)
libutxo_core_la_SOURCES += \
	src/prover/blockproof.c \
	src/prover/stateless.c \
	src/prover/chainbuild.c \
	src/prover/chaingen.c
noinst_HEADERS += src/prover/blockproof.h src/prover/chainbuild.h src/prover/chaingen.h
utxoinclude_HEADERS += include/utxo/stateless.h
# end stateless
