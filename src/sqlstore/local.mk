# src/sqlstore — the SQLite store of the full (bridge) node; see docs/STORE.md.
libutxo_core_la_SOURCES += \
	src/sqlstore/sql.c \
	src/sqlstore/store.c \
	src/sqlstore/nodes.c \
	src/sqlstore/apply.c \
	src/sqlstore/coins.c \
	src/sqlstore/rollback.c \
	src/sqlstore/query.c \
	src/sqlstore/checkpoint.c \
	src/sqlstore/check.c
noinst_HEADERS += src/sqlstore/store_int.h
utxoinclude_HEADERS += include/utxo/store.h
