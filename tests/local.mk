# tests — Check suites (one per module), command-line tests and fuzz targets.
# Each Check program is a test; a shell test drives the utxo command.
if HAVE_CHECK
check_PROGRAMS += tests/test_codec tests/test_ledger tests/test_json
TESTS += tests/test_codec tests/test_ledger tests/test_json
endif
tests_test_codec_SOURCES = tests/test_codec.c tests/testutil.h
tests_test_codec_CFLAGS = $(TEST_CFLAGS)
tests_test_codec_LDADD = $(TEST_LIBS)
tests_test_ledger_SOURCES = tests/test_ledger.c tests/testutil.h
tests_test_ledger_CFLAGS = $(TEST_CFLAGS) -DVECTORS_DIR='"$(abs_top_srcdir)/tests/vectors"'
tests_test_ledger_LDADD = $(TEST_LIBS)
tests_test_json_SOURCES = tests/test_json.c tools/json.c tools/json.h
tests_test_json_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tools
tests_test_json_LDADD = $(TEST_LIBS)

TESTS += tests/cli.sh tests/symbols.sh
EXTRA_DIST += tests/cli.sh tests/symbols.sh tests/vectors
AM_TESTS_ENVIRONMENT = top_builddir='$(abs_top_builddir)'; top_srcdir='$(abs_top_srcdir)'; \
	export top_builddir top_srcdir;

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

# machine (VM) tests: instruction set, runs, qemu differential, fuzz target
if HAVE_CHECK
check_PROGRAMS += tests/test_vm tests/test_vm_run
TESTS += tests/test_vm tests/test_vm_run
endif
tests_test_vm_SOURCES = tests/test_vm.c tests/vm_asm.h tests/testutil.h
tests_test_vm_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_LDADD = $(TEST_LIBS)
tests_test_vm_run_SOURCES = tests/test_vm_run.c tests/vm_asm.h tests/testutil.h
tests_test_vm_run_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_run_LDADD = $(TEST_LIBS)

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
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_image
endif
tests_fuzz_fuzz_image_SOURCES = tests/fuzz/fuzz_image.c
tests_fuzz_fuzz_image_LDADD = $(FUZZLIBS)
tests_fuzz_fuzz_image_LDFLAGS = $(FUZZLINK)
