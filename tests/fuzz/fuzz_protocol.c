// SPDX-License-Identifier: MIT
/* libFuzzer target: the control protocol's request parser and error framing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request r;
	const char *code = NULL;
	char msg[256];
	char *line;

	if (protocol_parse((const char *)data, size, &r, &code, msg, sizeof(msg)) == 0) {
		/* A request that parses is within its documented bounds. */
		if (r.cmd != REQ_STATUS && r.cmd != REQ_LIST && r.pid <= 0)
			abort();
		if (r.seconds < 0.1 || r.seconds > 3600 || r.limit < 1 || r.limit > 1000)
			abort();
	} else {
		if (!code || !*code || !memchr(msg, 0, sizeof(msg)))
			abort();
		/* The message goes back to the client: it must make one JSON line. */
		line = protocol_error(code, msg);
		if (!line || strchr(line, '\n') != line + strlen(line) - 1)
			abort();
		free(line);
	}
	return 0;
}
