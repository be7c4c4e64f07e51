# src/wallet — the wallet's own SQLite file, its sync from block proof
# bundles, payments, undo and queries (utxo/wallet.h, docs/WALLET.md).
libutxo_core_la_SOURCES += \
	src/wallet/db.c \
	src/wallet/sync.c \
	src/wallet/send.c \
	src/wallet/undo.c \
	src/wallet/query.c
noinst_HEADERS += src/wallet/wallet_int.h
utxoinclude_HEADERS += include/utxo/wallet.h
