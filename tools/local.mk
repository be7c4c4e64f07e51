# tools — the utxo command.
bin_PROGRAMS += utxo
utxo_SOURCES = \
	tools/utxo.c \
	tools/commands.h \
	tools/util.c tools/util.h tools/progress.c tools/progress.h \
	tools/json.c tools/json.h \
	tools/bench.c tools/bench.h \
	tools/cmd_tx.c
utxo_LDADD = libutxo_core.la $(DEPS_LIBS) $(MHD_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)
utxo_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
# the node and its light client: utxo node, utxo follow (docs/API.md)
utxo_SOURCES += tools/cmd_node.c tools/cmd_follow.c tools/bench_node.c tools/ratelimit.c \
	tools/ratelimit.h

# environment (predicates): utxo predicate build|id|disasm|run
utxo_SOURCES += tools/cmd_predicate.c tools/rv_disasm.c tools/rv_disasm.h tools/bench_p2pk.c \
	tools/bench_tx.c
# the --tx context and outcome reporting of predicate run and segments
utxo_SOURCES += tools/runctx.c tools/runctx.h

# machine (VM): utxo bench vm — workloads in tools/bench, image regenerated
# by `make vm-work-img` when the RISC-V toolchain is present.
utxo_SOURCES += tools/bench_vm.c tools/bench/vm_work.c tools/bench/vm_work.h \
	tools/bench/vm_work_img.h
EXTRA_DIST += tools/bench/gen_vm_work.sh tools/bench/vm_work.ld
vm-work-img:
	RV_CC='$(RV_CC)' RV_LD='$(RV_LD)' $(SHELL) $(srcdir)/tools/bench/gen_vm_work.sh \
		$(abs_top_srcdir) $(srcdir)/tools/bench/vm_work_img.h
.PHONY: vm-work-img

# accumulator: utxo bench stateless
utxo_SOURCES += tools/bench_stateless.c

# stateless (sv): utxo verify
utxo_SOURCES += tools/cmd_verify.c tools/cmd_verify_range.c tools/cmd_history.c tools/bench_history.c tools/bench_validator.c \
	tools/bench_ed25519.c

# store: utxo replay|prove|utxos|rollback, utxo bench replay
utxo_SOURCES += tools/cmd_replay.c tools/cmd_prove.c tools/cmd_utxos.c tools/cmd_rollback.c \
	tools/cmd_check.c tools/store_util.c tools/store_util.h tools/bench_replay.c
# end store

# wallet: utxo wallet new|restore|seed|address|balance|...|send
utxo_SOURCES += tools/cmd_wallet.c tools/cmd_wallet_ops.c tools/wallet_cli.h tools/bench_wallet.c \
	tools/secret.c tools/secret.h
# end wallet

# continuations (cont): utxo segments prove|verify|verify-one, utxo bench segments
utxo_SOURCES += tools/cmd_segments.c tools/bench_segments.c
# end continuations

# chain: utxo genesis|gen|demo|sequence
utxo_SOURCES += tools/cmd_genesis.c tools/cmd_gen.c tools/cmd_demo.c tools/cmd_sequence.c
# the manual page (docs/ is in EXTRA_DIST already)
man1_MANS = docs/utxo.1
# end chain
