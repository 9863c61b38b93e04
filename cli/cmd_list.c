// SPDX-License-Identifier: MIT
/* pyprobe list: the processes being observed. */
#include <stdio.h>
#include "pyprobe/ctl.h"
#include "cli.h"

#define TIMEOUT_MS 10000

int cmd_list(const struct cli *cli, int argc, char **argv)
{
	bool json;
	int rc;
	json_t *r, *a, *s;
	size_t i;

	if (cli_parse_simple(argc, argv,
			     "Usage: pyprobe list [--json]\n"
			     "List the processes pyprobed is observing now: those requests asked for and\n"
			     "those the daemon's watch rules match, with the label of their last window.\n",
			     false, &json, NULL, &rc))
		return rc;
	r = cli_call(cli, json_pack("{s:i, s:s}", "v", PP_CTL_VERSION, "cmd", "list"), TIMEOUT_MS, json, &rc);
	if (!r)
		return rc;
	a = json_object_get(r, "sessions");
	if (json) {
		cli_print_json(r);
	} else if (json_array_size(a) == 0) {
		printf("no processes are being observed\n");
	} else {
		printf("%8s  %-9s %9s %8s  %-18s %s\n", "PID", "PYTHON", "ATTACHED", "REQUESTS", "LABEL", "WATCHED BY");
		json_array_foreach(a, i, s) {
			json_t *py = json_object_get(s, "python"), *w = json_object_get(s, "watch");
			const char *label = json_string_value(json_object_get(w, "label"));

			printf("%8lld  %-9s %8.1fs %8lld  %-18s %s\n", json_integer_value(json_object_get(s, "pid")),
			       json_string_value(json_object_get(py, "version")),
			       json_number_value(json_object_get(s, "attached_seconds")),
			       json_integer_value(json_object_get(s, "requests")),
			       !json_is_object(w) ? "-" : label ? label : "(first window)",
			       json_is_object(w) ? json_string_value(json_object_get(w, "rule")) : "requests only");
		}
	}
	json_decref(r);
	return EXIT_OK;
}
