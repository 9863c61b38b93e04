// SPDX-License-Identifier: MIT
/* pyprobe detach PID: stop observing a process. */
#include <stdio.h>
#include "pyprobe/ctl.h"
#include "cli.h"

#define TIMEOUT_MS 10000

int cmd_detach(const struct cli *cli, int argc, char **argv)
{
	bool json;
	pid_t pid;
	int rc;
	json_t *r;

	if (cli_parse_simple(argc, argv, "Usage: pyprobe detach PID [--json]\nStop observing PID now: its probes are removed "
		  "and open windows on it end with an error.\n", true, &json, &pid, &rc))
		return rc;
	r = cli_call(cli, json_pack("{s:i, s:s, s:i}", "v", PP_CTL_VERSION, "cmd", "detach", "pid", (int)pid),
		     TIMEOUT_MS, json, &rc);
	if (!r)
		return rc;
	if (json)
		cli_print_json(r);
	else
		printf("detached from %d\n", pid);
	json_decref(r);
	return EXIT_OK;
}
