/*
 * test_vm_segments.c — the machine's continuation hooks (src/predicates/
 * vm.h, "continuations"): a paused state rebuilt on a fresh machine from a
 * witness (pages, registers, pc, cycle count) in restricted mode must run
 * exactly like the original; pages left out of the witness, pages proven
 * empty, and pages counted from earlier segments behave as specified.
 */
#include "config.h"

#include "testutil.h"
#include "vm_asm.h"

/* A segment replayed on a fresh machine from a witness: the pages the
 * segment touches (content at its start), registers, pc and cycle count, in
 * restricted mode. It must end exactly where the original run was at the
 * segment's end; a page left out of the witness fails NOT_WITNESSED. */
START_TEST(segment_replay_from_witness)
{
    asm_buf b = {0};
    asm_li(&b, S0, 0x00600000u);
    asm_li(&b, T0, 40);
    asm_emit(&b, SW(T0, S0, 0));          /* loop: data page */
    asm_emit(&b, SW(T0, SP, -64));        /* stack page */
    asm_emit(&b, ADDI(S0, S0, 256));      /* walks into new pages */
    asm_emit(&b, ADD(S2, S2, T0));
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_emit(&b, BNE(T0, ZERO, -20));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *a = asm_vm_new(), *bm = asm_vm_new(), *c = asm_vm_new();
    utxo_vm_result r, rb;
    const uint64_t n = 57, m = 143;

    ck_assert_int_eq(vm_load(a, p, NULL, 0, NULL, 10000), UTXO_OK);
    ck_assert_int_eq(vm_run_until(a, n, &r), VM_RUN_PAUSED);
    ck_assert_int_eq(vm_load(bm, p, NULL, 0, NULL, 10000), UTXO_OK);
    ck_assert_int_eq(vm_run_until(bm, m, &rb), VM_RUN_PAUSED);
    uint32_t n_pages;
    const uint32_t *pages = vm_touched_pages(bm, &n_pages);
    ck_assert_uint_gt(n_pages, 3);

    for (int leave_out = -1; leave_out < (int)n_pages; leave_out += (int)n_pages) {
        ck_assert_int_eq(vm_load_empty(c, p, NULL, 0, NULL, 10000), UTXO_OK);
        for (uint32_t i = 0; i < n_pages; i++) {
            uint8_t page[VM_PAGE_BYTES];
            vm_page_get(a, pages[i], page); /* zeros if not yet touched at n */
            if ((int)i != leave_out)
                ck_assert_int_eq(vm_page_set(c, pages[i], page), 0);
        }
        for (unsigned i = 1; i < 32; i++)
            vm_set_reg(c, i, vm_reg(a, i));
        vm_set_pc(c, vm_pc(a));
        vm_set_cycles(c, vm_cycles(a));
        vm_set_restricted(c, true);
        int st = vm_run_until(c, m, &r);
        if (leave_out < 0) {
            ck_assert_int_eq(st, VM_RUN_PAUSED);
            ck_assert_uint_eq(r.cycles, rb.cycles);
            ck_assert_uint_eq(r.pc, rb.pc);
            for (unsigned i = 0; i < 32; i++)
                ck_assert_uint_eq(vm_reg(c, i), vm_reg(bm, i));
            for (uint32_t i = 0; i < n_pages; i++) {
                uint8_t x[VM_PAGE_BYTES], y[VM_PAGE_BYTES];
                ck_assert_int_eq(vm_page_get(c, pages[i], x), 1);
                ck_assert_int_eq(vm_page_get(bm, pages[i], y), 1);
                ck_assert_mem_eq(x, y, VM_PAGE_BYTES);
            }
        } else {
            ck_assert_int_eq(st, VM_RUN_DONE);
            ck_assert_int_eq(r.status, UTXO_VM_FAILED);
            ck_assert_int_eq(r.fail, UTXO_VM_FAIL_NOT_WITNESSED);
        }
    }
    ck_assert_int_eq(vm_page_set(c, 3, (const uint8_t[VM_PAGE_BYTES]){0}), UTXO_VM_FAIL_BAD_ACCESS);
    ck_assert_str_eq(utxo_vm_fail_str(UTXO_VM_FAIL_NOT_WITNESSED), "page not in the witness");
    vm_program_free(p);
    vm_free(a);
    vm_free(bm);
    vm_free(c);
    asm_free(&b);
}
END_TEST

/* Replaying a segment needs what the original run knew about pages outside
 * the witness: how many were materialised before (they count against the
 * limit) and which accessed pages were still empty. A fetch from a page the
 * witness does not cover is NOT_WITNESSED, from one proven empty BAD_FETCH. */
START_TEST(segment_replay_limits_and_fetch)
{
    asm_buf b = {0};
    asm_li(&b, S0, 0x00600000u);
    asm_emit(&b, SW(S0, S0, 0));          /* loop: one new page per turn */
    asm_emit(&b, ADDI(S0, S0, 1024));
    asm_emit(&b, JAL(ZERO, -8));
    vm_program *p = asm_program(&b);
    vm *a = asm_vm_new(), *c = asm_vm_new();
    utxo_vm_result whole, r;
    const uint32_t limit = 20;
    const uint64_t n = 2 + 3 * 8;         /* after 8 pages */

    vm_set_page_limit(a, limit);
    vm_set_page_limit(c, limit);
    ck_assert_int_eq(vm_run(a, p, NULL, 0, NULL, 10000, &whole), UTXO_OK);
    ck_assert_int_eq(whole.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    uint32_t n_all;
    const uint32_t *all = vm_touched_pages(a, &n_all);
    uint32_t later[32], n_later = 0;
    for (uint32_t i = 9; i < n_all; i++) /* image page + 8 data pages came first */
        later[n_later++] = all[i];

    for (int variant = 0; variant < 3; variant++) {
        vm_load(a, p, NULL, 0, NULL, 10000);
        ck_assert_int_eq(vm_run_until(a, n, &r), VM_RUN_PAUSED);
        uint32_t n_at;
        vm_touched_pages(a, &n_at);
        ck_assert_uint_eq(n_at, 9);
        ck_assert_int_eq(vm_load_empty(c, p, NULL, 0, NULL, 10000), UTXO_OK);
        uint8_t code[VM_PAGE_BYTES];
        ck_assert_int_eq(vm_page_get(a, ASM_BASE >> VM_PAGE_SHIFT, code), 1);
        if (variant == 0) /* 1: the witness forgets the code page; 2: says it is empty */
            ck_assert_int_eq(vm_page_set(c, ASM_BASE >> VM_PAGE_SHIFT, code), 0);
        uint32_t absent[40];
        memcpy(absent, later, n_later * sizeof *later);
        uint32_t n_abs = n_later;
        if (variant == 2)
            absent[n_abs++] = ASM_BASE >> VM_PAGE_SHIFT; /* a witness saying it is empty */
        ck_assert_int_eq(vm_set_absent_pages(c, absent, n_abs), UTXO_OK);
        vm_set_pages_outside(c, n_at - 1);
        for (unsigned i = 1; i < 32; i++)
            vm_set_reg(c, i, vm_reg(a, i));
        vm_set_pc(c, vm_pc(a));
        vm_set_cycles(c, vm_cycles(a));
        vm_set_restricted(c, true);
        ck_assert_int_eq(vm_run_until(c, UINT64_MAX, &r), VM_RUN_DONE);
        if (variant == 0) {
            ck_assert_mem_eq(&r, &whole, sizeof r);
        } else {
            ck_assert_msg(r.fail == (variant == 1 ? UTXO_VM_FAIL_NOT_WITNESSED
                                                  : UTXO_VM_FAIL_BAD_FETCH),
                          "variant %d: fail %d pc %#x cycles %llu", variant, r.fail, r.pc,
                          (unsigned long long)r.cycles);
            ck_assert_uint_eq(r.cycles, n);
        }
    }
    ck_assert_int_eq(vm_set_absent_pages(c, NULL, 1), UTXO_ERR_ARG);
    vm_program_free(p);
    vm_free(a);
    vm_free(c);
    asm_free(&b);
}
END_TEST

static Suite *vm_segments_suite(void)
{
    Suite *s = suite_create("vm_segments");
    TCase *tc = tcase_create("segments");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, segment_replay_from_witness);
    tcase_add_test(tc, segment_replay_limits_and_fetch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vm_segments_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
