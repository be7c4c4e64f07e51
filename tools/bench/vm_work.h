/*
 * vm_work.h — workloads of `utxo bench vm` (vm_work.c), shared by the native
 * build and the RV32IM image.
 */
#ifndef UTXO_TOOLS_VM_WORK_H
#define UTXO_TOOLS_VM_WORK_H

#include <stdint.h>

enum { VM_WORK_FIB = 0, VM_WORK_SIEVE = 1, VM_WORK_MEMCPY = 2, VM_WORK_SHA256 = 3,
       VM_WORK_BYTECODE = 4 };

/* Runs workload `which` with size n; returns its checksum. */
uint32_t vm_work(uint32_t which, uint32_t n);

#endif /* UTXO_TOOLS_VM_WORK_H */
