/*
 * tandem-runner: the Tandem int8 runtime (runtime/tandem_rt.c, the same C core as the boards) as a command-line
 * program for Android phones (aarch64, run over adb by hw-targets/targets/adb.ts) and any aarch64 Linux.
 *
 *   tandem-runner info <blob>
 *   tandem-runner run <blob> <inputs.bin> <n> <warmup> <repeats> <outputs.bin>
 *
 * inputs.bin: n x input_size int8 codes. For each input: `warmup` untimed inferences, then `repeats` timed
 * ones; outputs.bin gets each input's output codes from its last inference (n x output_size).
 *
 * Timing: clock_gettime(CLOCK_MONOTONIC) in ns. On arm64 Linux/Android it is read in the vDSO from the
 * architected generic timer (the CNTVCT_EL0 counter, typically 19.2-26 MHz on phones), so it costs no
 * system call and has that counter's resolution; unlike reading CNTVCT_EL0 directly it is in ns on every
 * phone and works under qemu-user. A layer's time is taken through the runtime's layer hook (end - start);
 * an inference's from just before to just after trt_run, so it includes the hook's own cost. Nothing is
 * printed until every input's timed loop has ended.
 *
 * Output on stdout (one record per line, fields separated by one space; docs/targets.md "adb"):
 *   tandem-runner 1                                      format version
 *   clock CLOCK_MONOTONIC <resolution ns>
 *   model <layers> <input_size> <output_size> <arena bytes>
 *   layer <index> <op> <macs> <name>                     one per layer
 *   t <input> <repeat> <ns layer 0> ... <ns layer L-1> <ns inference>    run only: one per timed inference
 *   end
 * Any problem: one line on stderr naming it (the file, the runtime status, the layer) and exit code 1 (2: usage).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_file.h"
#include "tandem_rt.h"

#define PROG "tandem-runner"

static trt_model model; /* ~13 KiB: static, not on the stack */

typedef struct {
  unsigned long long start[TRT_MAX_LAYERS];
  unsigned long long *row; /* ns per layer of the inference being timed */
} timing;

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void layer_hook(void *ctx, uint16_t layer, int end) {
  timing *t = (timing *)ctx;
  unsigned long long ns = now_ns();
  if (!end) t->start[layer] = ns;
  else t->row[layer] += ns - t->start[layer];
}

static int parse_count(const char *s, const char *what, long min, long *out) {
  char *end;
  *out = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || *out < min) {
    fprintf(stderr, PROG ": %s '%s' must be an integer >= %ld\n", what, s, min);
    return 1;
  }
  return 0;
}

static void print_model(void) {
  uint16_t i;
  printf("tandem-runner 1\n");
  printf("model %u %lu %lu %lu\n", (unsigned)model.n_layers, (unsigned long)model.input_size, (unsigned long)model.output_size,
         (unsigned long)model.arena_used);
  for (i = 0; i < model.n_layers; i++)
    printf("layer %u %u %lu %s\n", (unsigned)i, (unsigned)model.layers[i].op, (unsigned long)model.layers[i].macs, model.layers[i].name);
}

static int run(char **argv) {
  long n, warmup, repeats, in_len, i, k;
  unsigned char *blob, *arena, *inputs, *outputs;
  unsigned long long *samples, t0;
  size_t cols, l;
  struct timespec res;
  timing t;
  trt_status st;

  if (parse_count(argv[3], "n", 1, &n) || parse_count(argv[4], "warmup", 0, &warmup) || parse_count(argv[5], "repeats", 1, &repeats)) return 2;
  if (rt_load_blob(PROG, argv[1], &model, &blob, &arena) != 0) return 1;
  inputs = rt_read_file(PROG, argv[2], &in_len);
  if (!inputs) return 1;
  if (in_len != n * (long)model.input_size) {
    fprintf(stderr, PROG ": %s has %ld bytes, expected %ld inputs x %lu codes = %ld\n", argv[2], in_len, n,
            (unsigned long)model.input_size, n * (long)model.input_size);
    return 1;
  }
  cols = (size_t)model.n_layers + 1u;
  outputs = malloc((size_t)n * model.output_size);
  samples = calloc((size_t)n * (size_t)repeats * cols, sizeof *samples);
  if (!outputs || !samples) {
    fprintf(stderr, PROG ": cannot allocate %ld x %ld samples and the outputs\n", n, repeats);
    return 1;
  }
  for (i = 0; i < n; i++) {
    const int8_t *x = (const int8_t *)(inputs + (size_t)i * model.input_size);
    int8_t *y = (int8_t *)(outputs + (size_t)i * model.output_size);
    for (k = 0; k < warmup + repeats; k++) {
      int timed = k >= warmup;
      t.row = samples + ((size_t)i * (size_t)repeats + (size_t)(timed ? k - warmup : 0)) * cols;
      t0 = now_ns();
      st = trt_run(&model, x, y, timed ? layer_hook : NULL, &t);
      if (timed) t.row[model.n_layers] = now_ns() - t0;
      if (st != TRT_OK) {
        fprintf(stderr, PROG ": input %ld, inference %ld failed: %s (status %d)\n", i, k, trt_status_text(st), (int)st);
        return 1;
      }
    }
  }
  if (rt_write_file(PROG, argv[6], outputs, (unsigned long)n * model.output_size) != 0) return 1;
  print_model();
  if (clock_getres(CLOCK_MONOTONIC, &res) != 0) res.tv_sec = res.tv_nsec = 0;
  printf("clock CLOCK_MONOTONIC %ld\n", (long)res.tv_sec * 1000000000L + (long)res.tv_nsec);
  for (i = 0; i < n; i++)
    for (k = 0; k < repeats; k++) {
      const unsigned long long *row = samples + ((size_t)i * (size_t)repeats + (size_t)k) * cols;
      printf("t %ld %ld", i, k);
      for (l = 0; l < cols; l++) printf(" %llu", row[l]);
      putchar('\n');
    }
  printf("end\n");
  free(samples);
  free(outputs);
  free(inputs);
  free(arena);
  free(blob);
  return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  unsigned char *blob, *arena;
  if (argc == 3 && strcmp(argv[1], "info") == 0) {
    if (rt_load_blob(PROG, argv[2], &model, &blob, &arena) != 0) return 1;
    print_model();
    printf("end\n");
    free(arena);
    free(blob);
    return 0;
  }
  if (argc == 8 && strcmp(argv[1], "run") == 0) return run(argv + 1);
  fprintf(stderr, "usage: " PROG " info <blob>\n       " PROG " run <blob> <inputs.bin> <n> <warmup> <repeats> <outputs.bin>\n");
  return 2;
}
