# selftest.S — written for utxo, not part of riscv-tests: the driver's
# negative control (tests/riscv_tests.sh). Case 2 passes; case 7 claims
# 1 + 1 = 3 and must fail, so the program must be rejected with exit code
# (7 << 1) | 1 = 15 by every tier. A driver or environment that reported
# every program as passing would pass the suite and fail here.

#include "riscv_test.h"
#include "test_macros.h"

RVTEST_RV32U
RVTEST_CODE_BEGIN

  TEST_RR_OP( 2, add, 0x00000002, 0x00000001, 0x00000001 );
  TEST_RR_OP( 7, add, 0x00000003, 0x00000001, 0x00000001 );

  TEST_PASSFAIL

RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN

  TEST_DATA

RVTEST_DATA_END
