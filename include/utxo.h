/*
 * utxo.h — the whole public API of libutxo. Include this one header and
 * link with `pkg-config --cflags --libs libutxo`; call utxo_init() once
 * before anything else (utxo/common.h). UTXO_VERSION_STRING
 * (utxo/version.h) names these headers, utxo_version() the library.
 */
#ifndef UTXO_H
#define UTXO_H

#include "utxo/common.h"
#include "utxo/ledger.h"
#include "utxo/predicate.h"
#include "utxo/segments.h"
#include "utxo/validate.h"
#include "utxo/stateless.h"
#include "utxo/blockfile.h"
#include "utxo/store.h"
#include "utxo/keys.h"
#include "utxo/standard.h"
#include "utxo/builder.h"
#include "utxo/wallet.h"
#include "utxo/pipeline.h"
#include "utxo/history.h"
#include "utxo/client.h"

#endif /* UTXO_H */
