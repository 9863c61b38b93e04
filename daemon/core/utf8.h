/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_UTF8_H
#define PYPROBED_UTF8_H
#include <jansson.h>

/*
 * Names and paths come from targets and the file system: any bytes. JSON and
 * the Prometheus format take only UTF-8, and one bad string must not cost a
 * whole reply, so invalid bytes become U+FFFD.
 */

/* Length of the valid UTF-8 sequence at s (1-4), 0 if there is none. */
int utf8_seq_len(const unsigned char *s);
/* A JSON string of s with every invalid byte replaced; NULL s gives "". */
json_t *utf8_json_string(const char *s);

#endif
