# src/connect — the block-connection core (connect.h, docs/CONNECT.md): one
# function that connects a block over a spent-output view and an accumulator
# backend; the verifier (its predicate stage) and the stateless validator
# (its roots-only adapter) live beside it, above src/prover.
libutxo_core_la_SOURCES += \
	src/connect/connect.c \
	src/connect/backends.c \
	src/connect/undo.c \
	src/connect/verifier.c \
	src/connect/validator.c
noinst_HEADERS += src/connect/connect.h
