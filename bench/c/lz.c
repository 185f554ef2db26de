// A byte-oriented compressor as real ones are written: LZ77 with a hash of the next four bytes
// (read unaligned), matches copied byte by byte or eight at a time, over 6 MiB of text-like data;
// compressed, decompressed, compared.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BITS 15
static uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t read64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void write64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static size_t compress(const uint8_t *in, size_t n, uint8_t *out) {
  static uint32_t table[1 << HASH_BITS];
  memset(table, 0, sizeof table);
  size_t i = 0, o = 0, literal = 0;
  while (i + 8 < n) {
    uint32_t h = (read32(in + i) * 2654435761u) >> (32 - HASH_BITS);
    size_t candidate = table[h];
    table[h] = (uint32_t)i;
    if (candidate < i && i - candidate < 65536 && read32(in + candidate) == read32(in + i)) {
      size_t length = 4;
      while (i + length < n && length < 255 + 4 && in[candidate + length] == in[i + length]) length++;
      // literals first: a count byte, then the bytes
      while (literal < i) {
        size_t run = i - literal > 127 ? 127 : i - literal;
        out[o++] = (uint8_t)run;
        memcpy(out + o, in + literal, run);
        o += run;
        literal += run;
      }
      size_t distance = i - candidate;
      out[o++] = 0x80;
      out[o++] = (uint8_t)(length - 4);
      out[o++] = (uint8_t)distance;
      out[o++] = (uint8_t)(distance >> 8);
      i += length;
      literal = i;
    } else i++;
  }
  while (literal < n) {
    size_t run = n - literal > 127 ? 127 : n - literal;
    out[o++] = (uint8_t)run;
    memcpy(out + o, in + literal, run);
    o += run;
    literal += run;
  }
  return o;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out) {
  size_t i = 0, o = 0;
  while (i < n) {
    uint8_t tag = in[i++];
    if (tag < 0x80) { memcpy(out + o, in + i, tag); i += tag; o += tag; continue; }
    size_t length = in[i] + 4, distance = in[i + 1] | (in[i + 2] << 8);
    i += 3;
    uint8_t *from = out + o - distance;
    if (distance >= 8) for (size_t k = 0; k < length; k += 8) write64(out + o + k, read64(from + k));
    else for (size_t k = 0; k < length; k++) out[o + k] = from[k];
    o += length;
  }
  return o;
}

int main(void) {
  const size_t N = 6 << 20;
  uint8_t *data = malloc(N + 16), *packed = malloc(N + N / 64 + 16), *unpacked = malloc(N + 280);
  static const char *words[] = { "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ", "and ", "a ", "compressor ", "reads ", "bytes ", "\n" };
  uint32_t x = 1;
  for (size_t i = 0; i < N;) {
    x = x * 1103515245u + 12345u;
    const char *w = words[(x >> 16) % 14];
    size_t len = strlen(w);
    if ((x >> 8) % 5 == 0) { data[i++] = 'A' + (x >> 20) % 26; continue; }
    for (size_t k = 0; k < len && i < N; k++) data[i++] = (uint8_t)w[k];
  }
  size_t packed_size = 0, unpacked_size = 0;
  for (int round = 0; round < 3; round++) {
    packed_size = compress(data, N, packed);
    unpacked_size = decompress(packed, packed_size, unpacked);
  }
  if (unpacked_size != N || memcmp(data, unpacked, N) != 0) { printf("lz mismatch\n"); return 1; }
  printf("lz %zu -> %zu\n", N, packed_size);
  return 0;
}
