/*
 * embedded.h - files compiled into the nncc binary at build time
 * (cmake/embed.cmake): the code templates and the runtime sources that are
 * written next to every generated model.
 */
#ifndef NNCC_EMBEDDED_H
#define NNCC_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *name;            /* file name, e.g. "nncc_runtime.h" */
    const unsigned char *data;   /* contents (not NUL-terminated) */
    size_t len;
} nncc_embedded_file;

extern const nncc_embedded_file nncc_templates[]; /* codegen_templates/ */
extern const int nncc_n_templates;      /* count of nncc_templates */
extern const nncc_embedded_file nncc_runtime_files[]; /* runtime/ */
extern const int nncc_n_runtime_files;

#endif
