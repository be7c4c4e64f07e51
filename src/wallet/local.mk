# src/wallet — the wallet's own SQLite file, its sync from block proof
# bundles, payments, undo and queries (utxo/wallet.h, docs/WALLET.md), and
# the addresses and transaction builder it pays with.
libutxo_core_la_SOURCES += \
	src/wallet/db.c \
	src/wallet/sync.c \
	src/wallet/send.c \
	src/wallet/undo.c \
	src/wallet/query.c
noinst_HEADERS += src/wallet/wallet_int.h
utxoinclude_HEADERS += include/utxo/wallet.h
# addresses and the transaction builder (utxo/builder.h): above the
# standard predicates, whose images and budgets they use
libutxo_core_la_SOURCES += \
	src/wallet/address.c \
	src/wallet/builder.c \
	src/wallet/builder_sign.c
utxoinclude_HEADERS += include/utxo/builder.h
noinst_HEADERS += src/wallet/builder_int.h
