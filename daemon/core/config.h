/* SPDX-License-Identifier: MIT */
#ifndef PYPROBED_CONFIG_H
#define PYPROBED_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include "opts.h"
#include "rules.h"

#define CONFIG_MAX_BYTES (1 << 20)

/*
 * Read the config file at path into o (settings not given on the command line)
 * and rules (appended). A missing file is no error unless must_exist. On
 * error returns -errno and writes every problem, one "PATH:LINE: what" per
 * line, to err; o and rules are then left half-filled for the caller to drop.
 */
int config__load(const char *path, bool must_exist, struct opts *o, struct rules *rules, char *err, size_t len);
/* The same, from text already in memory (name is used in messages). */
int config__parse(const char *name, const char *text, size_t size, struct opts *o, struct rules *rules, char *err,
		  size_t len);

#endif
