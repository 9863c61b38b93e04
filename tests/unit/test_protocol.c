// SPDX-License-Identifier: MIT
/* The control protocol parser: valid requests, and every way a request can be wrong. */
#include <stdlib.h>
#include "unit.h"
#include "pyprobe/ctl.h"
#include "protocol.h"

static int parse(const char *s, struct request *r, const char **code)
{
	char msg[256];

	*code = "";
	return protocol_parse(s, strlen(s), r, code, msg, sizeof(msg));
}

static void valid_requests(void)
{
	struct request r;
	const char *code;

	CHECK_INT(parse("{\"v\":1,\"cmd\":\"classify\",\"pid\":42}", &r, &code), 0);
	CHECK_INT(r.cmd, REQ_CLASSIFY);
	CHECK_INT(r.pid, 42);
	CHECK_NEAR(r.seconds, PP_CTL_DEFAULT_SECONDS, 1e-9);
	CHECK_INT(parse("{\"v\":1,\"cmd\":\"classify\",\"pid\":7,\"seconds\":0.5,\"future\":true}", &r, &code), 0);
	CHECK_NEAR(r.seconds, 0.5, 1e-9);
	CHECK_INT(parse("{\"cmd\":\"status\",\"v\":1}", &r, &code), 0);
	CHECK_INT(r.cmd, REQ_STATUS);
	CHECK_INT(parse("{\"v\":1,\"cmd\":\"list\"}", &r, &code), 0);
	CHECK_INT(r.cmd, REQ_LIST);
	CHECK_INT(parse("{\"v\":1,\"cmd\":\"detach\",\"pid\":3}", &r, &code), 0);
	CHECK_INT(r.cmd, REQ_DETACH);
}

static void malformed_requests(void)
{
	static const struct {
		const char *req, *code;
	} cases[] = {
		{ "", PP_ERR_BAD_REQUEST },
		{ "not json", PP_ERR_BAD_REQUEST },
		{ "[1,2]", PP_ERR_BAD_REQUEST },
		{ "{\"cmd\":\"status\"}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":2,\"cmd\":\"status\"}", PP_ERR_VERSION },
		{ "{\"v\":\"1\",\"cmd\":\"status\"}", PP_ERR_VERSION },
		{ "{\"v\":1}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":7}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"explode\"}", PP_ERR_UNKNOWN_CMD },
		{ "{\"v\":1,\"cmd\":\"classify\"}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":-1}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":0}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":1.5}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":\"12\"}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":99999999999}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":5,\"seconds\":0}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":5,\"seconds\":1e9}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"classify\",\"pid\":5,\"seconds\":\"2\"}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"v\":1,\"cmd\":\"status\"}", PP_ERR_BAD_REQUEST },
		{ "{\"v\":1,\"cmd\":\"status\"", PP_ERR_BAD_REQUEST },
	};
	struct request r;
	const char *code;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].req, &r, &code);

		CHECK(rc == -1 && strcmp(code, cases[i].code) == 0, "request %s: rc %d code '%s', expected '%s'",
		      cases[i].req, rc, code, cases[i].code);
	}
}

static void oversized_request(void)
{
	size_t n = PP_CTL_MAX_REQUEST + 10;
	char *big = malloc(n), msg[256];
	struct request r;
	const char *code = "";

	memset(big, ' ', n);
	CHECK_INT(protocol_parse(big, n, &r, &code, msg, sizeof(msg)), -1);
	CHECK_STR(code, PP_ERR_TOO_LARGE);
	free(big);
}

static void error_reply_is_one_json_line(void)
{
	char *line = protocol_error(PP_ERR_NO_PROCESS, "no such process: 5 \"quoted\"\n");

	CHECK(line != NULL, "allocated");
	if (!line)
		return;
	CHECK(strchr(line, '\n') == line + strlen(line) - 1, "exactly one newline, at the end: %s", line);
	CHECK(strstr(line, "\"ok\":false") && strstr(line, "\"code\":\"no-such-process\""), "%s", line);
	free(line);
}

/* A message quoting a path with bytes that are not UTF-8 still makes a reply, with U+FFFD. */
static void error_reply_with_bad_bytes(void)
{
	char *line = protocol_error(PP_ERR_NOT_PYTHON, "process 5 (/tmp/bad\xff\xc0\x80" "dir/python) is not CPython");

	CHECK(line != NULL, "a reply");
	if (!line)
		return;
	CHECK(strstr(line, "/tmp/bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "dir/python"), "%s", line);
	free(line);
}

int main(void)
{
	RUN(valid_requests);
	RUN(malformed_requests);
	RUN(oversized_request);
	RUN(error_reply_is_one_json_line);
	RUN(error_reply_with_bad_bytes);
	return UNIT_EXIT();
}
