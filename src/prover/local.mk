# src/prover — block proofs and receipts. Each part keeps to its own marked
# section; re-read before editing.

# stateless: block proof bundles, the stateless validator, the in-memory
# chain builder (docs/STATELESS.md)
libutxo_core_la_SOURCES += \
	src/prover/blockproof.c \
	src/prover/stateless.c \
	src/prover/chainbuild.c \
	src/prover/chaingen.c
noinst_HEADERS += src/prover/blockproof.h src/prover/chainbuild.h src/prover/chaingen.h
utxoinclude_HEADERS += include/utxo/stateless.h
# end stateless

# chain: mempool, sequencer, chain directory, history generator (docs/CHAIN.md)
libutxo_core_la_SOURCES += \
	src/prover/chain_mempool.c \
	src/prover/chain_seq.c \
	src/prover/chain_receipts.c \
	src/prover/chain_gen.c \
	src/prover/chain_invalid.c
noinst_HEADERS += src/prover/chain.h src/prover/chain_gen_int.h src/prover/chain_work_img.h
chain-work-img:
	{ echo '/* chain_work_img.h — GENERATED from tests/segments/work.img (the long-run predicate, tests/segments/work.c) by `make chain-work-img`: do not edit. */'; \
	  echo 'static const unsigned char chain_work_img[] = {'; \
	  od -An -v -tx1 $(srcdir)/tests/segments/work.img | \
	    sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1, /g' -e 's/, $$/,/' -e 's/^/    /'; \
	  echo '};'; } > $(srcdir)/src/prover/chain_work_img.h
.PHONY: chain-work-img
# end chain
