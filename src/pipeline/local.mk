# src/pipeline — the long-running jobs over whole files as library calls
# (utxo/pipeline.h): verify a block file with its proofs from a state (and
# the checksummed state file), sync a wallet from files or a store, prove a
# stored range. Above src/sqlstore, src/chain and src/wallet; the `utxo`
# command only parses, calls these and reports.
libutxo_core_la_SOURCES += \
	src/pipeline/files.c \
	src/pipeline/verify.c \
	src/pipeline/wallet.c \
	src/pipeline/replay.c \
	src/pipeline/prove.c
noinst_HEADERS += src/pipeline/pipe_int.h
utxoinclude_HEADERS += include/utxo/pipeline.h
