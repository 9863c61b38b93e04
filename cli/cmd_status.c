// SPDX-License-Identifier: MIT
/* pyprobe status: the daemon's state. */
#include <stdio.h>
#include "pyprobe/ctl.h"
#include "cli.h"

#define TIMEOUT_MS 10000

int cmd_status(const struct cli *cli, int argc, char **argv)
{
	bool json;
	int rc;
	json_t *r, *bpf;

	if (cli_parse_simple(argc, argv, "Usage: pyprobe status [--json]\nShow pyprobed's version, uptime, clients and "
		  "observed processes.\n", false, &json, NULL, &rc))
		return rc;
	r = cli_call(cli, json_pack("{s:i, s:s}", "v", PP_CTL_VERSION, "cmd", "status"), TIMEOUT_MS, json, &rc);
	if (!r)
		return rc;
	if (json) {
		cli_print_json(r);
	} else {
		bpf = json_object_get(r, "bpf");
		printf("pyprobed %s (pid %lld), up %.0f s\n", json_string_value(json_object_get(r, "version")),
		       json_integer_value(json_object_get(r, "pid")),
		       json_number_value(json_object_get(r, "uptime_seconds")));
		printf("observing %lld process(es) (%lld watched by rules), %lld window(s) open, %lld client(s), "
		       "%lld request(s) served\n",
		       json_integer_value(json_object_get(r, "sessions")), json_integer_value(json_object_get(r, "watched")),
		       json_integer_value(json_object_get(r, "pending")), json_integer_value(json_object_get(r, "clients")),
		       json_integer_value(json_object_get(r, "requests")));
		printf("probes %s; CPU sampling %lld Hz on %lld CPU(s)\n",
		       json_is_true(json_object_get(bpf, "attached")) ? "attached" : "idle (attached on demand)",
		       json_integer_value(json_object_get(bpf, "sample_hz")),
		       json_integer_value(json_object_get(bpf, "cpus_sampled")));
	}
	json_decref(r);
	return EXIT_OK;
}
