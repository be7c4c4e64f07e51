# src/sqlstore — the SQLite store of the full (bridge) node; see docs/STORE.md.
libutxo_core_la_SOURCES += \
	src/sqlstore/store.c \
	src/sqlstore/nodes.c \
	src/sqlstore/apply.c \
	src/sqlstore/rollback.c \
	src/sqlstore/query.c \
	src/sqlstore/checkpoint.c
noinst_HEADERS += src/sqlstore/store_int.h
utxoinclude_HEADERS += include/utxo/store.h

# wallet: the wallet's own SQLite file, its sync from block proof bundles and
# payments (utxo/wallet.h, docs/WALLET.md)
libutxo_core_la_SOURCES += \
	src/sqlstore/wallet_db.c \
	src/sqlstore/wallet_sync.c \
	src/sqlstore/wallet_send.c \
	src/sqlstore/wallet_undo.c \
	src/sqlstore/wallet_query.c
noinst_HEADERS += src/sqlstore/wallet_int.h
utxoinclude_HEADERS += include/utxo/wallet.h
# end wallet
