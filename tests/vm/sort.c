/*
 * sort.c — quicksort, insertion sort and binary search over signed and
 * unsigned arrays: signed/unsigned compares, branches, indexed loads and
 * stores, recursion.
 */
#include "rt.h"

#define N 2000
static int32_t a[N];
static uint32_t u[N];

static void quick(int32_t *v, int lo, int hi)
{
    while (lo < hi) {
        int32_t p = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) {
                int32_t t = v[i]; v[i] = v[j]; v[j] = t;
                i++; j--;
            }
        }
        if (j - lo < hi - i) {
            quick(v, lo, j);
            lo = i;
        } else {
            quick(v, i, hi);
            hi = j;
        }
    }
}

static void insertion(uint32_t *v, int n)
{
    for (int i = 1; i < n; i++) {
        uint32_t x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static int search(const int32_t *v, int n, int32_t key)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] == key) return mid;
        if (v[mid] < key) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

uint32_t test_main(void)
{
    uint32_t s = 12345, h = 2166136261u;
    for (int i = 0; i < N; i++) {
        a[i] = (int32_t)rt_rand(&s) >> (i % 20);
        u[i] = rt_rand(&s) >> (i % 7);
    }
    quick(a, 0, N - 1);
    insertion(u, 600);
    for (int i = 0; i < N; i++)
        h = rt_mix(h, (uint32_t)a[i]);
    for (int i = 0; i < 600; i++)
        h = rt_mix(h, u[i]);
    for (int i = 0; i < 500; i++) {
        int32_t key = (i & 1) ? a[(i * 7) % N] : (int32_t)rt_rand(&s);
        h = rt_mix(h, (uint32_t)search(a, N, key));
    }
    return h;
}
