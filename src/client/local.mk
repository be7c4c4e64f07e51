# src/client — a node's HTTP API from the client side (libcurl, jansson):
# the internal nc_ layer under follow, the bridge and the wallet's --node,
# and the public utxo_client_ API (include/utxo/client.h, docs/API.md).
libutxo_core_la_SOURCES += src/client/nodeclient.c src/client/client.c
noinst_HEADERS += src/client/nodeclient.h
utxoinclude_HEADERS += include/utxo/client.h
