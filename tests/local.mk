# tests — Check suites (one per module), command-line tests and fuzz targets.
# Each Check program is a test; a shell test drives the utxo command.
if HAVE_CHECK
check_PROGRAMS += tests/test_codec tests/test_ledger tests/test_json tests/test_validate
TESTS += tests/test_codec tests/test_ledger tests/test_json tests/test_validate
endif
tests_test_codec_SOURCES = tests/test_codec.c tests/testutil.h
tests_test_codec_CFLAGS = $(TEST_CFLAGS)
tests_test_codec_LDADD = $(TEST_LIBS)
tests_test_ledger_SOURCES = tests/test_ledger.c tests/testutil.h
tests_test_ledger_CFLAGS = $(TEST_CFLAGS) -DVECTORS_DIR='"$(abs_top_srcdir)/tests/vectors"'
tests_test_ledger_LDADD = $(TEST_LIBS)
if HAVE_CHECK
check_PROGRAMS += tests/test_client
TESTS += tests/test_client
endif
if HAVE_CHECK
check_PROGRAMS += tests/test_ratelimit
TESTS += tests/test_ratelimit
endif
tests_test_ratelimit_SOURCES = tests/test_ratelimit.c tools/ratelimit.c tools/ratelimit.h
tests_test_ratelimit_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tools
tests_test_ratelimit_LDADD = $(TEST_LIBS)
tests_test_client_SOURCES = tests/test_client.c tests/testutil.h
tests_test_client_CFLAGS = $(TEST_CFLAGS)
tests_test_client_LDADD = $(TEST_LIBS)
tests_test_validate_SOURCES = tests/test_validate.c tests/testutil.h
tests_test_validate_CFLAGS = $(TEST_CFLAGS)
tests_test_validate_LDADD = $(TEST_LIBS)
tests_test_json_SOURCES = tests/test_json.c tools/json.c tools/json.h
tests_test_json_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tools
tests_test_json_LDADD = $(TEST_LIBS)

TESTS += tests/cli.sh tests/cli_help.sh tests/symbols.sh tests/symbols_static.sh tests/layers.sh
EXTRA_DIST += tests/cli.sh tests/cli_help.sh tests/symbols.sh tests/symbols_static.sh tests/layers.sh tests/vectors
# the documents against the code: independent Python from docs/ENCODING.md,
# ACCUMULATOR.md and STATELESS.md (tests/vectors/*_ref.py)
TESTS += tests/docs_ref.sh
EXTRA_DIST += tests/docs_ref.sh
# A program that links the static archive and defines names the library
# uses inside; it links only because the archive's internals are local.
if ENABLE_STATIC
check_PROGRAMS += tests/static_link
TESTS += tests/static_link
endif
tests_static_link_SOURCES = tests/static_link.c
tests_static_link_CPPFLAGS = -I$(top_srcdir)/include -I$(top_builddir)/include
tests_static_link_CFLAGS = -std=c11 $(WARN_CFLAGS) $(INSTRUMENT_CFLAGS)
tests_static_link_LDFLAGS = -static $(AM_LDFLAGS)
tests_static_link_LDADD = libutxo.la
EXTRA_tests_static_link_DEPENDENCIES = libutxo-static.stamp
# the preamble the command tests source (ok, bad, expect, flip, $tmp)
EXTRA_DIST += tests/lib.sh
# Check's 4 s default per test case is a timed test on a shared 2-core
# machine; a case that hangs still fails, after two minutes.
AM_TESTS_ENVIRONMENT = top_builddir='$(abs_top_builddir)'; top_srcdir='$(abs_top_srcdir)'; \
	CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-120}; SAN_CFLAGS='$(SAN_CFLAGS)'; \
	UTXO_VM_JIT=$${UTXO_VM_JIT:-eager}; \
	TSAN_OPTIONS=$${TSAN_OPTIONS:-suppressions=$(abs_top_srcdir)/tests/tsan.supp}; \
	export top_builddir top_srcdir CK_DEFAULT_TIMEOUT SAN_CFLAGS UTXO_VM_JIT TSAN_OPTIONS;
# known ThreadSanitizer reports in libraries it cannot see into (--enable-tsan)
EXTRA_DIST += tests/tsan.supp

# `make check-valgrind`: the Check suites under Valgrind memcheck (errors and
# definite/indirect leaks fail). The slowest suites are left to ASan. Listed
# slowest first (seconds under memcheck here: 234, 85, 84, 78 ...), as
# valgrind.sh's workers take them from one queue in this order.
VALGRIND_SUITES = tests/test_store tests/test_chain tests/test_stateless tests/test_vm \
	tests/test_vm_run tests/test_validate tests/test_keys tests/test_stdpred tests/test_image \
	tests/test_history tests/test_builder tests/test_acc tests/test_memtree tests/test_ratelimit \
	tests/test_ledger tests/test_hostcall tests/test_json tests/test_codec tests/test_client
EXTRA_DIST += tests/valgrind.sh
check-valgrind: $(check_PROGRAMS)
	top_builddir=$(top_builddir) $(SHELL) $(srcdir)/tests/valgrind.sh $(VALGRIND_SUITES)
.PHONY: check-valgrind

# libFuzzer targets (configure --enable-fuzz, CC=clang); see docs/FUZZING.md.
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_tx tests/fuzz/fuzz_block tests/fuzz/fuzz_header tests/fuzz/fuzz_params
endif
FUZZLIBS = libutxo_core.la $(DEPS_LIBS)
FUZZLINK = -fsanitize=fuzzer
tests_fuzz_fuzz_tx_SOURCES = tests/fuzz/fuzz_tx.c
tests_fuzz_fuzz_tx_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_tx_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_block_SOURCES = tests/fuzz/fuzz_block.c
tests_fuzz_fuzz_block_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_block_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_header_SOURCES = tests/fuzz/fuzz_header.c
tests_fuzz_fuzz_header_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_header_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_params_SOURCES = tests/fuzz/fuzz_params.c
tests_fuzz_fuzz_params_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_params_LDFLAGS = $(FUZZLINK)
EXTRA_DIST += tests/fuzz/corpus
# issue 12 item 15: the validator state file, block/proof/receipt file
# framing, the command line's text parsers (tools/util.c compiled in), host
# calls with a real transaction context, stores with corrupted rows
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_valstate tests/fuzz/fuzz_framing tests/fuzz/fuzz_cli \
	tests/fuzz/fuzz_hostcall tests/fuzz/fuzz_store tests/fuzz/fuzz_walletdb
endif
tests_fuzz_fuzz_valstate_SOURCES = tests/fuzz/fuzz_valstate.c
tests_fuzz_fuzz_valstate_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_valstate_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_framing_SOURCES = tests/fuzz/fuzz_framing.c
tests_fuzz_fuzz_framing_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_framing_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_cli_SOURCES = tests/fuzz/fuzz_cli.c tools/util.c
tests_fuzz_fuzz_cli_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_fuzz_fuzz_cli_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_cli_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_hostcall_SOURCES = tests/fuzz/fuzz_hostcall.c tests/vm_asm.h
tests_fuzz_fuzz_hostcall_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_hostcall_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_store_SOURCES = tests/fuzz/fuzz_store.c tests/fuzz/sqlfuzz.h
tests_fuzz_fuzz_store_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_store_LDFLAGS = $(FUZZLINK)
tests_fuzz_fuzz_walletdb_SOURCES = tests/fuzz/fuzz_walletdb.c tests/fuzz/sqlfuzz.h
tests_fuzz_fuzz_walletdb_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_walletdb_LDFLAGS = $(FUZZLINK)

# machine (VM) tests: instruction set, runs, qemu differential, fuzz target
if HAVE_CHECK
check_PROGRAMS += tests/test_vm tests/test_vm_run tests/test_vm_segments tests/test_vm_diff \
	tests/test_vm_jit
TESTS += tests/test_vm tests/test_vm_run tests/test_vm_segments tests/test_vm_diff \
	tests/test_vm_jit
endif
# the interpreter against a single-step reference on random programs
tests_test_vm_diff_SOURCES = tests/test_vm_diff.c tests/vm_asm.h tests/testutil.h
tests_test_vm_diff_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_diff_LDADD = $(TEST_LIBS)
# the translating tier against the interpreter (reuses test_vm_diff.c)
tests_test_vm_jit_SOURCES = tests/test_vm_jit.c tests/vm_asm.h tests/testutil.h
EXTRA_tests_test_vm_jit_DEPENDENCIES = tests/test_vm_diff.c
tests_test_vm_jit_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_jit_LDADD = $(TEST_LIBS)
tests_test_vm_SOURCES = tests/test_vm.c tests/vm_asm.h tests/testutil.h
tests_test_vm_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_LDADD = $(TEST_LIBS)
tests_test_vm_run_SOURCES = tests/test_vm_run.c tests/vm_asm.h tests/testutil.h
tests_test_vm_run_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_run_LDADD = $(TEST_LIBS)
tests_test_vm_segments_SOURCES = tests/test_vm_segments.c tests/vm_asm.h tests/testutil.h
tests_test_vm_segments_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_segments_LDADD = $(TEST_LIBS)

# environment tests: images and ELF, host calls, standard predicates, the
# reproducible template rebuild (exit 77 without clang/ld.lld), fuzz target
if HAVE_CHECK
check_PROGRAMS += tests/test_image tests/test_hostcall tests/test_stdpred tests/test_stdimg
TESTS += tests/test_image tests/test_hostcall tests/test_stdpred tests/test_stdimg
endif
tests_test_image_SOURCES = tests/test_image.c tests/testutil.h
tests_test_image_CFLAGS = $(TEST_CFLAGS)
tests_test_image_LDADD = $(TEST_LIBS)
tests_test_hostcall_SOURCES = tests/test_hostcall.c tests/vm_asm.h tests/testutil.h
tests_test_hostcall_CFLAGS = $(TEST_CFLAGS)
tests_test_hostcall_LDADD = $(TEST_LIBS)
tests_test_stdpred_SOURCES = tests/test_stdpred.c tests/testutil.h
tests_test_stdpred_CFLAGS = $(TEST_CFLAGS)
tests_test_stdpred_LDADD = $(TEST_LIBS)
tests_test_stdimg_SOURCES = tests/test_stdimg.c tests/testutil.h
tests_test_stdimg_CFLAGS = $(TEST_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"' \
	-DRV_CC='"$(RV_CC)"' -DRV_LD='"$(RV_LD)"' -DPRED_CFLAGS='"$(PRED_CFLAGS)"' \
	-DPRED_LINKFLAGS='"$(PRED_LINKFLAGS)"' -DSTDPRED_NAMES='"$(STDPRED_NAMES)"'
tests_test_stdimg_LDADD = $(TEST_LIBS)
TESTS += tests/predicate_cli.sh
EXTRA_DIST += tests/predicate_cli.sh
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_image
endif
tests_fuzz_fuzz_image_SOURCES = tests/fuzz/fuzz_image.c
tests_fuzz_fuzz_image_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_image_LDFLAGS = $(FUZZLINK)

# machine: differential test against qemu-riscv32 on compiled C programs.
# The programs are built at `make check` time when clang/ld.lld are present;
# the driver also links a second copy of the interpreter loop built with
# switch dispatch (renamed vm_interp_switch) and compares the two.
check_PROGRAMS += tests/test_vm_qemu
TESTS += tests/test_vm_qemu
# the machine's tests again with the translating tier off
TESTS += tests/vm_tiers.sh
EXTRA_DIST += tests/vm_tiers.sh
# RISC-V conformance: the riscv-tests suite's rv32ui and rv32um programs
# (tests/riscv-tests/README), built at `make check` time, in both tiers
TESTS += tests/riscv_tests.sh
EXTRA_DIST += tests/riscv_tests.sh tests/riscv-tests
tests_test_vm_qemu_SOURCES = tests/test_vm_qemu.c src/predicates/vm_interp.c
tests_test_vm_qemu_CFLAGS = $(AM_CFLAGS) -DVM_NO_COMPUTED_GOTO -Dvm_interp=vm_interp_switch \
	-DVM_QEMU='"$(QEMU_RISCV32)"' -DVM_ELF_DIR='"$(abs_top_builddir)/tests/vm"'
tests_test_vm_qemu_LDADD = libutxo_core.la $(DEPS_LIBS)
VM_DIFF_SRC = tests/vm/rt.c tests/vm/rt.h tests/vm/vm_test.ld tests/vm/arith.c \
	tests/vm/sort.c tests/vm/bytes.c tests/vm/calls.c tests/vm/crc.c
EXTRA_DIST += $(VM_DIFF_SRC)
VM_RV_CFLAGS = --target=riscv32 -march=rv32im -mabi=ilp32 -O2 -ffreestanding \
	-fno-builtin -nostdlib -fno-pic -fno-asynchronous-unwind-tables
if HAVE_RV_TOOLCHAIN
EXTRA_tests_test_vm_qemu_DEPENDENCIES = tests/vm/elfs.stamp
endif
tests/vm/elfs.stamp: $(VM_DIFF_SRC)
	$(AM_V_GEN)$(MKDIR_P) tests/vm && \
	$(RV_CC) $(VM_RV_CFLAGS) -c $(srcdir)/tests/vm/rt.c -o tests/vm/rt.o && \
	for p in arith sort bytes calls crc; do \
	  $(RV_CC) $(VM_RV_CFLAGS) -c $(srcdir)/tests/vm/$$p.c -o tests/vm/$$p.o && \
	  $(RV_LD) -T $(srcdir)/tests/vm/vm_test.ld -o tests/vm/$$p.elf tests/vm/$$p.o \
	    tests/vm/rt.o || exit 1; \
	done && touch $@
CLEANFILES += tests/vm/elfs.stamp tests/vm/*.o tests/vm/*.elf

# machine: libFuzzer target (configure --enable-fuzz CC=clang)
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_vm
endif
tests_fuzz_fuzz_vm_SOURCES = tests/fuzz/fuzz_vm.c src/predicates/vm_interp.c
tests_fuzz_fuzz_vm_CFLAGS = $(AM_CFLAGS) -DVM_NO_COMPUTED_GOTO -Dvm_interp=vm_interp_switch
tests_fuzz_fuzz_vm_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_vm_LDFLAGS = $(FUZZLINK)

# accumulator (src/witness): forest vs stateless, proof rejection, undo;
# fuzz target for the proof decoder + verifier
if HAVE_CHECK
check_PROGRAMS += tests/test_acc tests/test_acc_forest
TESTS += tests/test_acc tests/test_acc_forest
endif
tests_test_acc_SOURCES = tests/test_acc.c tests/acc_testutil.h tests/testutil.h
tests_test_acc_CFLAGS = $(TEST_CFLAGS)
tests_test_acc_LDADD = $(TEST_LIBS)
tests_test_acc_forest_SOURCES = tests/test_acc_forest.c tests/acc_testutil.h tests/testutil.h
tests_test_acc_forest_CFLAGS = $(TEST_CFLAGS)
tests_test_acc_forest_LDADD = $(TEST_LIBS)
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_accproof
endif
tests_fuzz_fuzz_accproof_SOURCES = tests/fuzz/fuzz_accproof.c
tests_fuzz_fuzz_accproof_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_accproof_LDFLAGS = $(FUZZLINK)

# machine: the committed bench image is reproducible from its source
TESTS += tests/vm_bench_img.sh
EXTRA_DIST += tests/vm_bench_img.sh
# benchmarks: no ratio printed that was not measured (stand-ins, no timing)
TESTS += tests/bench_cli.sh
EXTRA_DIST += tests/bench_cli.sh

# stateless (sv): block proof bundles, the stateless validator, block files
if HAVE_CHECK
check_PROGRAMS += tests/test_stateless tests/test_stateless_codec
TESTS += tests/test_stateless tests/test_stateless_codec
endif
tests_test_stateless_SOURCES = tests/test_stateless.c tests/stateless_testutil.h tests/testutil.h
tests_test_stateless_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tools
tests_test_stateless_LDADD = $(TEST_LIBS)
tests_test_stateless_codec_SOURCES = tests/test_stateless_codec.c tests/stateless_testutil.h \
	tests/testutil.h
tests_test_stateless_codec_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tools
tests_test_stateless_codec_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/mkchain
tests_mkchain_SOURCES = tests/mkchain.c
tests_mkchain_LDADD = libutxo_core.la $(DEPS_LIBS)
# the file pipelines (src/pipeline) and the atomic file helper
if HAVE_CHECK
check_PROGRAMS += tests/test_pipeline
TESTS += tests/test_pipeline
endif
tests_test_pipeline_SOURCES = tests/test_pipeline.c tests/testutil.h
tests_test_pipeline_CFLAGS = $(TEST_CFLAGS)
tests_test_pipeline_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/blockrec
tests_blockrec_SOURCES = tests/blockrec.c
tests_blockrec_LDADD = libutxo_core.la $(DEPS_LIBS)
TESTS += tests/verify_cli.sh tests/records_cli.sh tests/statefile_cli.sh
EXTRA_DIST += tests/verify_cli.sh tests/records_cli.sh tests/statefile_cli.sh
# hostile receipt files refused in bounded memory (tests/hostile measures it)
check_PROGRAMS += tests/hostile
tests_hostile_SOURCES = tests/hostile.c
TESTS += tests/hostile_files.sh
EXTRA_DIST += tests/hostile_files.sh
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_bundle
endif
tests_fuzz_fuzz_bundle_SOURCES = tests/fuzz/fuzz_bundle.c
tests_fuzz_fuzz_bundle_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_bundle_LDFLAGS = $(FUZZLINK)
# end stateless

# store (src/sqlstore): replay, rollback, invalid blocks, queries, refusals
if HAVE_CHECK
check_PROGRAMS += tests/test_store
TESTS += tests/test_store
endif
tests_test_store_SOURCES = tests/test_store.c tests/testutil.h
tests_test_store_CFLAGS = $(TEST_CFLAGS)
tests_test_store_LDADD = $(TEST_LIBS)
# the commands end to end, and kill -9 of a replay (both use tests/mkchain;
# the kill test compares tables with tests/store_dump)
check_PROGRAMS += tests/store_dump
tests_store_dump_SOURCES = tests/store_dump.c
tests_store_dump_LDADD = $(DEPS_LIBS)
TESTS += tests/store_cli.sh tests/crash_replay.sh
# utxo check and the checks before serving on damaged stores (tests/store_sql
# damages them); the writer lock, read-only media, permissions, disk full
check_PROGRAMS += tests/store_sql
tests_store_sql_SOURCES = tests/store_sql.c
tests_store_sql_LDADD = $(DEPS_LIBS)
TESTS += tests/store_check.sh tests/store_faults.sh
EXTRA_DIST += tests/store_check.sh tests/store_faults.sh
# libFuzzer target for the undo record decoder
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_undo
endif
tests_fuzz_fuzz_undo_SOURCES = tests/fuzz/fuzz_undo.c
tests_fuzz_fuzz_undo_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_undo_LDFLAGS = $(FUZZLINK)
EXTRA_DIST += tests/store_cli.sh tests/crash_replay.sh
# end store

# wallet: keys and addresses, builder and wallet file, the example program
# and the `utxo wallet` command
if HAVE_CHECK
check_PROGRAMS += tests/test_keys tests/test_builder tests/test_wallet
TESTS += tests/test_keys tests/test_builder tests/test_wallet
endif
tests_test_keys_SOURCES = tests/test_keys.c tests/testutil.h
tests_test_keys_CFLAGS = $(TEST_CFLAGS)
tests_test_keys_LDADD = $(TEST_LIBS)
tests_test_builder_SOURCES = tests/test_builder.c tests/testutil.h
tests_test_builder_CFLAGS = $(TEST_CFLAGS)
tests_test_builder_LDADD = $(TEST_LIBS)
tests_test_wallet_SOURCES = tests/test_wallet.c tests/testutil.h
tests_test_wallet_CFLAGS = $(TEST_CFLAGS)
tests_test_wallet_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/wallet_mkchain
tests_wallet_mkchain_SOURCES = tests/wallet_mkchain.c
tests_wallet_mkchain_LDADD = libutxo_core.la $(DEPS_LIBS)
TESTS += tests/wallet_cli.sh tests/compact_cli.sh
EXTRA_DIST += tests/wallet_cli.sh tests/compact_cli.sh
# The example sees only the installed header set (no src/, no config.h) and
# links the shared libutxo.la, which exports the utxo_* API only;
# installcheck builds it once more with pkg-config against the installation.
check_PROGRAMS += examples/wallet_example
# run by tests/sequencer_cli.sh against a node
check_PROGRAMS += examples/client_example
examples_client_example_SOURCES = examples/client_example.c
examples_client_example_CPPFLAGS = -I$(top_srcdir)/include -I$(top_builddir)/include
examples_client_example_CFLAGS = -std=c11 $(WARN_CFLAGS) $(INSTRUMENT_CFLAGS)
examples_client_example_LDADD = libutxo.la
TESTS += examples/wallet_example
examples_wallet_example_SOURCES = examples/wallet_example.c
examples_wallet_example_CPPFLAGS = -I$(top_srcdir)/include -I$(top_builddir)/include
examples_wallet_example_CFLAGS = -std=c11 $(WARN_CFLAGS) $(INSTRUMENT_CFLAGS)
examples_wallet_example_LDADD = libutxo.la
installcheck-local: installcheck-wallet-example
installcheck-wallet-example:
	PKG_CONFIG_PATH='$(DESTDIR)$(libdir)/pkgconfig' && export PKG_CONFIG_PATH && \
	$(CC) -std=c11 -o wallet_example_installed $(srcdir)/examples/wallet_example.c \
	  `pkg-config --define-variable=prefix='$(DESTDIR)$(prefix)' --cflags --libs libutxo` && \
	LD_LIBRARY_PATH='$(DESTDIR)$(libdir)' ./wallet_example_installed && rm -f wallet_example_installed
.PHONY: installcheck-wallet-example
# libFuzzer target: addresses, multisig arguments, standard image recognition
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_wallet
endif
tests_fuzz_fuzz_wallet_SOURCES = tests/fuzz/fuzz_wallet.c
tests_fuzz_fuzz_wallet_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_wallet_LDFLAGS = $(FUZZLINK)
# end wallet

# continuations (cont): memory tree, segment receipts end to end, the CLI,
# fuzz target for the receipt decoder + verifier
if HAVE_CHECK
check_PROGRAMS += tests/test_memtree tests/test_segments
TESTS += tests/test_memtree tests/test_segments
endif
tests_test_memtree_SOURCES = tests/test_memtree.c tests/testutil.h
tests_test_memtree_CFLAGS = $(TEST_CFLAGS)
tests_test_memtree_LDADD = $(TEST_LIBS)
tests_test_segments_SOURCES = tests/test_segments.c tests/vm_asm.h tests/testutil.h
tests_test_segments_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tools \
	-DSEG_DIR='"$(abs_top_srcdir)/tests/segments"'
tests_test_segments_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/segments/work.c tests/segments/work.img tests/segments/gen_work.sh
TESTS += tests/segments_cli.sh tests/segments_img.sh
EXTRA_DIST += tests/segments_cli.sh tests/segments_img.sh
# `make seg-work-img` rebuilds the committed workload image and its copy
seg-work-img: utxo$(EXEEXT)
	RV_CC='$(RV_CC)' RV_LD='$(RV_LD)' $(SHELL) $(srcdir)/tests/segments/gen_work.sh \
		$(abs_top_srcdir) $(srcdir)/tests/segments/work.img ./utxo$(EXEEXT) \
		$(srcdir)/src/chain/work_img.h
.PHONY: seg-work-img
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_receipt
endif
tests_fuzz_fuzz_receipt_SOURCES = tests/fuzz/fuzz_receipt.c
tests_fuzz_fuzz_receipt_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_receipt_LDFLAGS = $(FUZZLINK)
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_checkpoint
endif
tests_fuzz_fuzz_checkpoint_SOURCES = tests/fuzz/fuzz_checkpoint.c
tests_fuzz_fuzz_checkpoint_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_checkpoint_LDFLAGS = $(FUZZLINK)
# end continuations

# the mempool journal of a long-running sequencer (src/chain/journal.c)
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_journal
endif
tests_fuzz_fuzz_journal_SOURCES = tests/fuzz/fuzz_journal.c
tests_fuzz_fuzz_journal_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_journal_LDFLAGS = $(FUZZLINK)

# the files of a history plan that come back from other machines: range
# results, the manifest, link-up (src/history)
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_history
endif
tests_fuzz_fuzz_history_SOURCES = tests/fuzz/fuzz_history.c
tests_fuzz_fuzz_history_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_history_LDFLAGS = $(FUZZLINK)

# the /blocks stream a follower reads from a node it does not trust
# (src/client/nodeclient.c, nc_stream_feed)
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_stream
endif
tests_fuzz_fuzz_stream_SOURCES = tests/fuzz/fuzz_stream.c
tests_fuzz_fuzz_stream_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_stream_LDFLAGS = $(FUZZLINK)

# chain: mempool, sequencer, chain directory and generator (test_chain);
# the commands end to end (chain_cli.sh: genesis, gen, sequence, replay,
# prove, verify, demo)
if HAVE_CHECK
check_PROGRAMS += tests/test_chain
TESTS += tests/test_chain
endif
tests_test_chain_SOURCES = tests/test_chain.c tests/testutil.h
tests_test_chain_CFLAGS = $(TEST_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_test_chain_LDADD = $(TEST_LIBS)
TESTS += tests/chain_cli.sh tests/progress_cli.sh
EXTRA_DIST += tests/chain_cli.sh tests/progress_cli.sh
# end chain

# the block-connection core through every adapter (test_connect)
if HAVE_CHECK
check_PROGRAMS += tests/test_connect
TESTS += tests/test_connect
endif
tests_test_connect_SOURCES = tests/test_connect.c tests/testutil.h
tests_test_connect_CFLAGS = $(TEST_CFLAGS)
tests_test_connect_LDADD = $(TEST_LIBS)

# history: one block range verified from a claimed start state and its
# result file (history_cli.sh: the command; test_history: the result
# file's decoder against every flip, cut and trailing byte)
TESTS += tests/history_cli.sh tests/history_slurm.sh tests/segments_groups.sh
EXTRA_DIST += tests/history_cli.sh tests/history_slurm.sh tests/segments_groups.sh \
	contrib/parallel/history-parallel.sh contrib/slurm/history-submit.sh \
	contrib/slurm/history-range.sbatch contrib/slurm/history-linkup.sbatch \
	contrib/parallel/segments-parallel.sh contrib/slurm/segments-submit.sh \
	contrib/slurm/segments-group.sbatch contrib/slurm/segments-prove.sbatch
if HAVE_CHECK
check_PROGRAMS += tests/test_history
TESTS += tests/test_history
endif
tests_test_history_SOURCES = tests/test_history.c tests/testutil.h
tests_test_history_CFLAGS = $(TEST_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_test_history_LDADD = $(TEST_LIBS)

# the node: utxo node over HTTP on 127.0.0.1 (node_cli.sh, curl and python3);
# tests/mkfan writes the fan-out transactions of utxos_pages.sh
check_PROGRAMS += tests/mkfan
tests_mkfan_SOURCES = tests/mkfan.c
tests_mkfan_LDADD = libutxo_core.la $(DEPS_LIBS)
TESTS += tests/node_cli.sh tests/follow_cli.sh tests/bridge_cli.sh tests/sequencer_cli.sh \
	tests/utxos_pages.sh tests/seq_readers.sh
EXTRA_DIST += tests/node_cli.sh tests/follow_cli.sh tests/bridge_cli.sh tests/relay.py tests/trickle.py \
	tests/sequencer_cli.sh tests/nodelib.sh tests/utxos_pages.sh tests/seq_readers.sh \
	contrib/systemd/utxo-node.service
