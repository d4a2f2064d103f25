/*
 * File helpers shared by the hosted builds of the Tandem runtime (rt_host on the host, tandem-runner on
 * Android/aarch64 Linux): read a whole file, load a blob with an arena of exactly the size it needs.
 * Every failure prints one line on stderr, prefixed with the program's name and naming the file.
 */
#ifndef RT_FILE_H
#define RT_FILE_H

#include "tandem_rt.h"

/* The whole file (malloc'd; *len its size), or NULL after a message. */
unsigned char *rt_read_file(const char *prog, const char *path, long *len);

/* Reads the blob at path into *blob, plans and allocates the arena (*arena) and loads it into m.
 * 0 on success; 1 after a message (the file, the runtime's status text and the refused layer). */
int rt_load_blob(const char *prog, const char *path, trt_model *m, unsigned char **blob, unsigned char **arena);

/* Writes len bytes to path; 0 on success, 1 after a message. */
int rt_write_file(const char *prog, const char *path, const void *data, unsigned long len);

#endif
