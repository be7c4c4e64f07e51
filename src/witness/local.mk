# src/witness — the UTXO accumulator (Utreexo-style forest, batch proofs,
# stateless verification); see docs/ACCUMULATOR.md.
libutxo_core_la_SOURCES += \
	src/witness/acc_state.c \
	src/witness/acc_proof.c \
	src/witness/acc_stateless.c \
	src/witness/acc_forest.c \
	src/witness/acc_update.c
noinst_HEADERS += src/witness/acc.h
