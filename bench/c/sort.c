// Sorting as programs do it: libc qsort of 1M integers and of 200k strings, and a hand-written
// merge sort, each checked and summed.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t state = 12345;
static uint32_t next(void) { state ^= state << 13; state ^= state >> 17; state ^= state << 5; return state; }

static int compare_ints(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}
static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void merge_sort(int32_t *a, int32_t *tmp, size_t n) {
  if (n < 24) {
    for (size_t i = 1; i < n; i++) {
      int32_t v = a[i];
      size_t j = i;
      while (j > 0 && a[j - 1] > v) { a[j] = a[j - 1]; j--; }
      a[j] = v;
    }
    return;
  }
  size_t half = n / 2;
  merge_sort(a, tmp, half);
  merge_sort(a + half, tmp, n - half);
  size_t i = 0, j = half, k = 0;
  while (i < half && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < half) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

int main(void) {
  const size_t N = 1 << 20, S = 200000;
  int32_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *tmp = malloc(N * sizeof *tmp);
  for (size_t i = 0; i < N; i++) a[i] = b[i] = (int32_t)next();
  qsort(a, N, sizeof *a, compare_ints);
  merge_sort(b, tmp, N);
  uint64_t sum = 0;
  for (size_t i = 0; i < N; i++) {
    if (a[i] != b[i] || (i && a[i - 1] > a[i])) { printf("sort mismatch at %zu\n", i); return 1; }
    sum = sum * 31 + (uint32_t)a[i];
  }
  char **strings = malloc(S * sizeof *strings);
  for (size_t i = 0; i < S; i++) {
    char *s = malloc(16);
    int len = 4 + next() % 10;
    for (int k = 0; k < len; k++) s[k] = 'a' + next() % 26;
    s[len] = 0;
    strings[i] = s;
  }
  qsort(strings, S, sizeof *strings, compare_strings);
  for (size_t i = 0; i < S; i += 997) sum = sum * 31 + (unsigned char)strings[i][0] + strlen(strings[i]);
  printf("sort %llu\n", (unsigned long long)sum);
  return 0;
}
