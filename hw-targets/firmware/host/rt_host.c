/*
 * rt_host: the Tandem int8 runtime on the host, for tests and for checking a blob before a board runs it.
 *   rt_host <blob> <inputs.bin> <n> <outputs.bin>
 * inputs.bin holds n x input_size int8 codes, outputs.bin gets n x output_size int8 codes.
 * Any problem: a message on stderr naming it, exit code 1 (2 for usage).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem_rt.h"

static trt_model model; /* ~13 KiB: static, not on the stack */

/* Reads a whole file; NULL with a message on failure. */
static unsigned char *read_file(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  if (!f) {
    fprintf(stderr, "rt_host: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "rt_host: cannot size %s\n", path);
    fclose(f);
    return NULL;
  }
  buf = malloc(*len > 0 ? (size_t)*len : 1u);
  if (!buf || fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
    fprintf(stderr, "rt_host: cannot read %s\n", path);
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  long blob_len, in_len, n, i;
  unsigned char *blob, *inputs, *outputs, *arena;
  char *end;
  trt_status st;
  FILE *out;

  if (argc != 5) {
    fprintf(stderr, "usage: rt_host <blob> <inputs.bin> <n> <outputs.bin>\n");
    return 2;
  }
  n = strtol(argv[3], &end, 10);
  if (*end != '\0' || n < 1) {
    fprintf(stderr, "rt_host: n '%s' must be an integer >= 1\n", argv[3]);
    return 2;
  }
  blob = read_file(argv[1], &blob_len);
  if (!blob) return 1;
  if (blob_len > 0xffffffffL) {
    fprintf(stderr, "rt_host: %s: blob larger than 4 GiB\n", argv[1]);
    return 1;
  }
  /* first load without an arena: a valid blob stops at TRT_ERR_ARENA with arena_used set */
  st = trt_load(&model, blob, (uint32_t)blob_len, NULL, 0);
  if (st != TRT_ERR_ARENA) {
    fprintf(stderr, "rt_host: %s: bad blob: %s (status %d)\n", argv[1], trt_status_text(st), (int)st);
    return 1;
  }
  arena = malloc(model.arena_used);
  if (!arena) {
    fprintf(stderr, "rt_host: cannot allocate an arena of %lu bytes\n", (unsigned long)model.arena_used);
    return 1;
  }
  st = trt_load(&model, blob, (uint32_t)blob_len, arena, model.arena_used);
  if (st != TRT_OK) {
    fprintf(stderr, "rt_host: %s: bad blob: %s (status %d)\n", argv[1], trt_status_text(st), (int)st);
    return 1;
  }
  inputs = read_file(argv[2], &in_len);
  if (!inputs) return 1;
  if (in_len != n * (long)model.input_size) {
    fprintf(stderr, "rt_host: %s has %ld bytes, expected %ld inputs x %lu codes = %ld\n", argv[2], in_len, n,
            (unsigned long)model.input_size, n * (long)model.input_size);
    return 1;
  }
  outputs = malloc((size_t)n * model.output_size);
  if (!outputs) {
    fprintf(stderr, "rt_host: cannot allocate the outputs\n");
    return 1;
  }
  for (i = 0; i < n; i++) {
    st = trt_run(&model, (const int8_t *)(inputs + (size_t)i * model.input_size), (int8_t *)(outputs + (size_t)i * model.output_size), NULL, NULL);
    if (st != TRT_OK) {
      fprintf(stderr, "rt_host: inference %ld failed: %s (status %d)\n", i, trt_status_text(st), (int)st);
      return 1;
    }
  }
  out = fopen(argv[4], "wb");
  if (!out || fwrite(outputs, 1, (size_t)n * model.output_size, out) != (size_t)n * model.output_size || fclose(out) != 0) {
    fprintf(stderr, "rt_host: cannot write %s\n", argv[4]);
    return 1;
  }
  printf("rt_host: %ld inferences, %u layers, input %lu, output %lu codes, arena %lu bytes\n", n, (unsigned)model.n_layers,
         (unsigned long)model.input_size, (unsigned long)model.output_size, (unsigned long)model.arena_used);
  free(outputs);
  free(inputs);
  free(arena);
  free(blob);
  return 0;
}
