/*
 * rt_host: the Tandem int8 runtime on the host, for tests and for checking a blob before a board runs it.
 *   rt_host <blob> <inputs.bin> <n> <outputs.bin>
 * inputs.bin holds n x input_size int8 codes, outputs.bin gets n x output_size int8 codes.
 * Any problem: a message on stderr naming it, exit code 1 (2 for usage).
 */
#include <stdio.h>
#include <stdlib.h>

#include "rt_file.h"
#include "tandem_rt.h"

static trt_model model; /* ~13 KiB: static, not on the stack */

int main(int argc, char **argv) {
  long in_len, n, i;
  unsigned char *blob, *inputs, *outputs, *arena;
  char *end;
  trt_status st;

  if (argc != 5) {
    fprintf(stderr, "usage: rt_host <blob> <inputs.bin> <n> <outputs.bin>\n");
    return 2;
  }
  n = strtol(argv[3], &end, 10);
  if (*end != '\0' || n < 1) {
    fprintf(stderr, "rt_host: n '%s' must be an integer >= 1\n", argv[3]);
    return 2;
  }
  if (rt_load_blob("rt_host", argv[1], &model, &blob, &arena) != 0) return 1;
  inputs = rt_read_file("rt_host", argv[2], &in_len);
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
  if (rt_write_file("rt_host", argv[4], outputs, (unsigned long)n * model.output_size) != 0) return 1;
  printf("rt_host: %ld inferences, %u layers, input %lu, output %lu codes, arena %lu bytes\n", n, (unsigned)model.n_layers,
         (unsigned long)model.input_size, (unsigned long)model.output_size, (unsigned long)model.arena_used);
  free(outputs);
  free(inputs);
  free(arena);
  free(blob);
  return 0;
}
