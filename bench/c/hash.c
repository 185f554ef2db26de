// A hash table as programs write one: open addressing with linear probing, string keys hashed
// with FNV-1a, grown by doubling; 600k inserts of generated words, lookups, deletions.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *key; uint32_t hash; int value; int used; } Slot;
typedef struct { Slot *slots; size_t capacity, count; } Table;

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void put(Table *t, char *key, int value);

static void grow(Table *t) {
  Slot *old = t->slots;
  size_t old_capacity = t->capacity;
  t->capacity = t->capacity ? t->capacity * 2 : 1024;
  t->slots = calloc(t->capacity, sizeof *t->slots);
  t->count = 0;
  for (size_t i = 0; i < old_capacity; i++) if (old[i].used == 1) put(t, old[i].key, old[i].value);
  free(old);
}

static void put(Table *t, char *key, int value) {
  if ((t->count + 1) * 4 > t->capacity * 3) grow(t);
  uint32_t h = fnv1a(key);
  size_t i = h & (t->capacity - 1);
  while (t->slots[i].used) {
    if (t->slots[i].used == 1 && t->slots[i].hash == h && strcmp(t->slots[i].key, key) == 0) { t->slots[i].value = value; return; }
    i = (i + 1) & (t->capacity - 1);
  }
  t->slots[i] = (Slot){ key, h, value, 1 };
  t->count++;
}

static Slot *find(Table *t, const char *key) {
  uint32_t h = fnv1a(key);
  size_t i = h & (t->capacity - 1);
  while (t->slots[i].used) {
    if (t->slots[i].used == 1 && t->slots[i].hash == h && strcmp(t->slots[i].key, key) == 0) return &t->slots[i];
    i = (i + 1) & (t->capacity - 1);
  }
  return NULL;
}

int main(void) {
  Table t = { 0 };
  const int N = 600000;
  char **words = malloc(N * sizeof *words);
  uint32_t x = 7;
  for (int i = 0; i < N; i++) {
    char buffer[32];
    x = x * 1664525u + 1013904223u;
    int len = snprintf(buffer, sizeof buffer, "w%u-%d", x >> 12, i % 977);
    words[i] = memcpy(malloc(len + 1), buffer, len + 1);
    put(&t, words[i], i);
  }
  long found = 0, sum = 0;
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < N; i += 1 + round) {
      Slot *s = find(&t, words[i]);
      if (s) { found++; sum += s->value; }
    }
  for (int i = 0; i < N; i += 3) { Slot *s = find(&t, words[i]); if (s) s->used = 2; }
  long left = 0;
  for (int i = 0; i < N; i++) left += find(&t, words[i]) != NULL;
  printf("hash %ld %ld %ld %zu\n", found, sum, left, t.capacity);
  return 0;
}
