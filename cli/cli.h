/* SPDX-License-Identifier: MIT */
#ifndef PYPROBE_CLI_H
#define PYPROBE_CLI_H
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

/* Exit codes (documented in pyprobe --help). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NO_DAEMON = 3 };

struct cli {
	const char *socket_path;
};

/* Subcommand: argv[0] is the command name; returns an exit code. */
typedef int (*cmd_fn)(const struct cli *cli, int argc, char **argv);

int cmd_classify(const struct cli *cli, int argc, char **argv);
int cmd_gc(const struct cli *cli, int argc, char **argv);
int cmd_top(const struct cli *cli, int argc, char **argv);
int cmd_attrs(const struct cli *cli, int argc, char **argv);
int cmd_churn(const struct cli *cli, int argc, char **argv);
int cmd_loop(const struct cli *cli, int argc, char **argv);
int cmd_record(const struct cli *cli, int argc, char **argv);
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_list(const struct cli *cli, int argc, char **argv);
int cmd_detach(const struct cli *cli, int argc, char **argv);

/*
 * Send req (stolen) and get the reply. On an error reply prints it (as JSON on
 * stdout with json, else "pyprobe: message" on stderr) and returns NULL with
 * *rc set; on success returns the reply and *rc = 0.
 */
json_t *cli_call(const struct cli *cli, json_t *req, int timeout_ms, bool json, int *rc);
/* cli_call that shows "recording 3/10 s" on a terminal (stderr) while waiting. */
json_t *cli_call_progress(const struct cli *cli, json_t *req, int timeout_ms, bool json, int *rc, double seconds);
/* Parse a PID argument; prints the problem and returns -1 when it is not one. */
pid_t cli_parse_pid(const char *cmd, const char *s);
/*
 * What a window is on: one PID, PID and its descendants (--tree, --max-tree N),
 * or a group (--unit NAME, --cgroup PATH). CLI_TARGET_OPTIONS go in a getopt
 * table; cli_target_option takes their codes (-1: a usage error, said);
 * cli_target_request makes the request from the arguments left (NULL: a usage
 * error, said).
 */
enum { CLI_OPT_TREE = 0x100, CLI_OPT_MAX_TREE, CLI_OPT_UNIT, CLI_OPT_CGROUP };
#define CLI_TARGET_OPTIONS                                                                             \
	{ "tree", no_argument, NULL, CLI_OPT_TREE }, { "max-tree", required_argument, NULL, CLI_OPT_MAX_TREE }, \
	{ "unit", required_argument, NULL, CLI_OPT_UNIT }, { "cgroup", required_argument, NULL, CLI_OPT_CGROUP }
struct cli_target {
	bool tree;
	long max_tree;
	const char *group_kind, *group;
};
int cli_target_option(const char *cmd, int c, const char *arg, struct cli_target *t);
json_t *cli_target_request(const char *cmd, const struct cli_target *t, int nargs, char **args, double seconds);
/* What a windowed command takes besides --seconds and --json. */
enum { WIN_LIMIT = 1, WIN_TREE = 2, WIN_THRESHOLD = 4 };
/*
 * A windowed command (argv[0]: classify, gc, top): parse "PID [--seconds N]
 * [--limit N] [--tree [--max-tree N]] [--threshold MS] [--json]" (flags: which of these it
 * takes), ask the daemon, print the reply as JSON or with human. Returns the
 * exit code.
 */
int cli_window_cmd(const struct cli *cli, int argc, char **argv, const char *help, unsigned int flags,
		   void (*human)(json_t *reply));
/* Parse a --seconds value; prints the problem and returns -1 when out of range. */
int cli_parse_seconds(const char *cmd, const char *s, double *out);
void cli_print_json(json_t *reply);
/* Fields of a reply object: a number (0 when absent), a string ("?" when absent or not one). */
double cli_num(json_t *o, const char *k);
const char *cli_str(json_t *o, const char *k);
/*
 * The first line of a sampled window's report ("pid P: CPython V (BUILD),
 * W s window, N samples at H Hz"). Returns false, after saying so, when
 * there were no samples.
 */
bool cli_print_sampled_header(json_t *reply, long long samples);
/*
 * A tree reply (--tree, --unit, --cgroup): "process tree of P, W s window:
 * N processes, K observed" (and the max-tree note); a row's PID, PPID and
 * command, then false after "not observed: why" for one that was not; a
 * row's end (when it joined the window, if late).
 */
void cli_print_tree_header(json_t *reply);
bool cli_print_tree_row(json_t *row);
void cli_print_tree_joined(json_t *row);
/*
 * Parse "[--json] [--help]" and, when want_pid, exactly one PID. Returns 0, or
 * -1 when the command should exit now with *rc (help printed, or usage error).
 */
int cli_parse_simple(int argc, char **argv, const char *help, bool want_pid, bool *json, pid_t *pid, int *rc);

#endif
