# tools — the utxo command.
bin_PROGRAMS += utxo
utxo_SOURCES = \
	tools/utxo.c \
	tools/commands.h \
	tools/util.c tools/util.h \
	tools/json.c tools/json.h \
	tools/bench.c tools/bench.h \
	tools/cmd_tx.c
utxo_LDADD = libutxo_core.la $(DEPS_LIBS)

# environment (predicates): utxo predicate build|id|disasm|run
utxo_SOURCES += tools/cmd_predicate.c tools/rv_disasm.c tools/rv_disasm.h
