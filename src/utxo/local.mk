# src/utxo — ledger types, canonical encoding, hashing, context-free rules.
libutxo_core_la_SOURCES += \
	src/utxo/codec.c \
	src/utxo/error.c \
	src/utxo/version.c \
	src/utxo/params.c \
	src/utxo/tx.c \
	src/utxo/block.c \
	src/utxo/rules.c \
	src/utxo/pool.c
# stateless (sv): block and proof files
libutxo_core_la_SOURCES += src/utxo/blockfile.c src/utxo/atomicfile.c
utxoinclude_HEADERS += include/utxo/blockfile.h
noinst_HEADERS += src/utxo/atomicfile.h src/utxo/clock.h src/utxo/codec.h src/utxo/ledger_int.h src/utxo/pool.h src/utxo/splitmix.h
utxoinclude_HEADERS += include/utxo/common.h include/utxo/ledger.h include/utxo/validate.h

# keys: Ed25519 key derivation and sighash signatures (docs/WALLET.md); the
# standard predicates from C are src/predicates, addresses and the
# transaction builder src/wallet
libutxo_core_la_SOURCES += src/utxo/keys.c
utxoinclude_HEADERS += include/utxo/keys.h
