# src/history — a long history verified in block ranges (docs/RANGES.md):
# one range's verification on the validator pipeline and its result file.
# Above src/pipeline.
libutxo_core_la_SOURCES += src/history/range.c src/history/plan.c
utxoinclude_HEADERS += include/utxo/history.h
