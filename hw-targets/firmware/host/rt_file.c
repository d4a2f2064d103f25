/* File helpers of the hosted runtime builds (rt_file.h). */
#include "rt_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned char *rt_read_file(const char *prog, const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  if (!f) {
    fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno));
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "%s: cannot size %s\n", prog, path);
    fclose(f);
    return NULL;
  }
  buf = malloc(*len > 0 ? (size_t)*len : 1u);
  if (!buf || fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
    fprintf(stderr, "%s: cannot read %s\n", prog, path);
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  return buf;
}

static void bad_blob(const char *prog, const char *path, const trt_model *m, trt_status st) {
  fprintf(stderr, "%s: %s: bad blob: %s (status %d)", prog, path, trt_status_text(st), (int)st);
  if (m->error_layer != 0xFFFFu && m->error_layer < TRT_MAX_LAYERS)
    fprintf(stderr, ": op %u at layer %u %s", (unsigned)m->layers[m->error_layer].op, (unsigned)m->error_layer,
            m->layers[m->error_layer].name);
  fputc('\n', stderr);
}

int rt_load_blob(const char *prog, const char *path, trt_model *m, unsigned char **blob, unsigned char **arena) {
  long len;
  trt_status st;
  *arena = NULL;
  *blob = rt_read_file(prog, path, &len);
  if (!*blob) return 1;
  if (len > 0xffffffffL) {
    fprintf(stderr, "%s: %s: blob larger than 4 GiB\n", prog, path);
    return 1;
  }
  /* first load without an arena: a valid blob stops at TRT_ERR_ARENA with arena_used set */
  st = trt_load(m, *blob, (uint32_t)len, NULL, 0);
  if (st != TRT_ERR_ARENA) {
    bad_blob(prog, path, m, st);
    return 1;
  }
  *arena = malloc(m->arena_used > 0 ? m->arena_used : 1u);
  if (!*arena) {
    fprintf(stderr, "%s: cannot allocate an arena of %lu bytes\n", prog, (unsigned long)m->arena_used);
    return 1;
  }
  st = trt_load(m, *blob, (uint32_t)len, *arena, m->arena_used);
  if (st != TRT_OK) {
    bad_blob(prog, path, m, st);
    return 1;
  }
  return 0;
}

int rt_write_file(const char *prog, const char *path, const void *data, unsigned long len) {
  FILE *out = fopen(path, "wb");
  if (!out || fwrite(data, 1, (size_t)len, out) != (size_t)len) {
    fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    if (out) fclose(out);
    return 1;
  }
  if (fclose(out) != 0) {
    fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    return 1;
  }
  return 0;
}
