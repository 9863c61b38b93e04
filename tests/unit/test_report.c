// SPDX-License-Identifier: MIT
/*
 * The classify reply (report.c) from a fixture window: the fields
 * docs/protocol.md promises, consistent with the window and the verdict,
 * thread identities from the thread states, and names in any bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "unit.h"
#include "report.h"

static json_t *path(json_t *o, const char *p)
{
	char buf[256], *save, *k;

	snprintf(buf, sizeof(buf), "%s", p);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(k)) : json_object_get(o, k);
	return o;
}

static double num(json_t *o, const char *p)
{
	return json_number_value(path(o, p));
}

static const char *str(json_t *o, const char *p)
{
	const char *s = json_string_value(path(o, p));

	return s ? s : "(none)";
}

struct fixture {
	struct thread_window t[2];
	struct gil_holder_window gil[1];
	struct window w;
	struct pyinfo py;
	struct pythread pt[2];
	struct report_ctx rc;
	struct verdict v;
};

/* A main thread crunching Python with the GIL, a second one waiting for it. */
static void fixture(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->t[0].tid = 100;
	snprintf(f->t[0].name, sizeof(f->t[0].name), "python3");
	f->t[0].sec[PP_B_ONCPU] = 1.9;
	f->t[0].samples = f->t[0].samples_gil = 190;
	f->t[1].tid = 101;
	memcpy(f->t[1].name, "io-\xff\xfe", 6);	/* a thread may name itself in any bytes */
	f->t[1].sec[PP_B_GIL_WAIT] = 1.5;
	f->t[1].gil_sec[PP_GIL_ACQUIRE] = 1.5;
	f->t[1].gil_cnt[PP_GIL_ACQUIRE] = 300;
	f->t[1].sec[PP_B_NET_IO] = 0.4;
	f->t[1].samples = f->t[1].samples_nogil = 3;
	f->gil[0] = (struct gil_holder_window){ 101, 100, PP_B_ONCPU, PP_NR_NONE, 1.5, 300 };
	f->w = (struct window){ .seconds = 2.0, .ncpus = 2, .n = 2, .t = f->t, .ngil = 1, .gil = f->gil };
	snprintf(f->py.version, sizeof(f->py.version), "3.11.2");
	snprintf(f->py.elf_path, sizeof(f->py.elf_path), "/usr/bin/python3.11");
	snprintf(f->py.exe, sizeof(f->py.exe), "/usr/bin/python3.11");
	f->pt[0] = (struct pythread){ .ident = 0x7f00, .native_id = 100 };
	f->pt[1] = (struct pythread){ .ident = 0x7f01, .native_id = 101 };
	f->rc = (struct report_ctx){ .pid = 100, .requested_seconds = 2, .attach_ms = 12.5, .sample_hz = 99,
				     .gc_max_rate = 5000, .py = &f->py, .pythreads = f->pt, .npythreads = 2,
				     .gc_attach = "uprobe_multi" };
	classify(&f->w, &f->v);
}

static void reply_follows_window_and_verdict(void)
{
	struct fixture f;
	json_t *r;

	fixture(&f);
	r = report_classify(&f.rc, &f.w, &f.v);
	CHECK(r, "a reply");
	if (!r)
		return;
	CHECK_INT(num(r, "pid"), 100);
	CHECK_NEAR(num(r, "window_seconds"), 2.0, 1e-9);
	CHECK_NEAR(num(r, "attach_ms"), 12.5, 1e-9);
	CHECK_STR(str(r, "python.version"), "3.11.2");
	CHECK_STR(str(r, "verdict.label"), f.v.label);
	CHECK_STR(str(r, "verdict.label"), "gil-contended");
	CHECK_NEAR(num(r, "verdict.confidence"), f.v.confidence, 1e-9);
	CHECK_INT(json_array_size(path(r, "verdict.reasons")), (size_t)f.v.nreasons);
	CHECK_INT(json_array_size(path(r, "verdict.advice")), (size_t)f.v.nadvice);
	CHECK_NEAR(num(r, "totals.seconds.oncpu"), 1.9, 1e-9);
	CHECK_NEAR(num(r, "totals.seconds.gil_wait"), 1.5, 1e-9);
	CHECK_NEAR(num(r, "gil.acquire_seconds"), 1.5, 1e-9);
	CHECK_INT(num(r, "gil.acquire_waits"), 300);
	CHECK_INT(num(r, "gil.holders.0.tid"), 100);
	CHECK_NEAR(num(r, "gil.holders.0.seconds"), 1.5, 1e-9);
	CHECK_INT(num(r, "cpu.samples"), 193);
	CHECK_INT(num(r, "cpu.sample_hz"), 99);
	CHECK_STR(str(r, "gc.attach"), "uprobe_multi");
	CHECK_INT(json_array_size(path(r, "threads")), 2);
	CHECK_INT(num(r, "python_threads"), 2);
	json_decref(r);
}

static void threads_with_their_python_identity(void)
{
	struct fixture f;
	json_t *r, *t0, *t1;

	fixture(&f);
	f.pt[1].native_id = 0;	/* before 3.11: matched by pthread_self */
	f.t[1].fsbase = 0x7f01;
	r = report_classify(&f.rc, &f.w, &f.v);
	CHECK(r, "a reply");
	if (!r)
		return;
	t0 = path(r, "threads.0");
	t1 = path(r, "threads.1");
	CHECK_INT(num(t0, "tid"), 100);
	CHECK(json_is_true(path(t0, "python.main")), "the main thread");
	CHECK_INT(num(t0, "python.ident"), 0x7f00);
	CHECK_INT(num(t1, "python.ident"), 0x7f01);
	CHECK(json_is_false(path(t1, "python.main")), "not the main thread");
	/* the name's bytes are not UTF-8: replaced, the reply still made */
	CHECK(!strncmp(str(t1, "name"), "io-", 3) && strlen(str(t1, "name")) > 3, "name %s", str(t1, "name"));
	{
		char *text = json_dumps(r, 0);

		CHECK(text != NULL, "serializable");
		free(text);
	}
	f.rc.npythreads = -1;	/* thread states unreadable: no identities, no error */
	json_decref(r);
	r = report_classify(&f.rc, &f.w, &f.v);
	CHECK(r && json_is_null(path(r, "threads.0.python")), "unknown identity is null");
	json_decref(r);
}

static void empty_window(void)
{
	struct fixture f;
	json_t *r;

	fixture(&f);
	f.w.n = 0;
	f.w.ngil = 0;
	classify(&f.w, &f.v);
	r = report_classify(&f.rc, &f.w, &f.v);
	CHECK(r, "a reply for a window where nothing ran");
	if (!r)
		return;
	CHECK_INT(json_array_size(path(r, "threads")), 0);
	CHECK_STR(str(r, "verdict.label"), f.v.label);
	CHECK_NEAR(num(r, "gil.share_of_work"), 0, 0);
	json_decref(r);
}

int main(void)
{
	RUN(reply_follows_window_and_verdict);
	RUN(threads_with_their_python_identity);
	RUN(empty_window);
	return UNIT_EXIT();
}
