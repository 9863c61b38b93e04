// SPDX-License-Identifier: MIT
/* What /proc/PID/cgroup says: the path, and the container IDs runtimes put in it. Pure. */
#include <stdbool.h>
#include <string.h>
#include "unit.h"
#include "cgroup.h"

#define ID "4f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

static void paths(void)
{
	char p[256];

	cgroup_path("0::/system.slice/web.service\n", p, sizeof(p));
	CHECK_STR(p, "/system.slice/web.service");
	/* hybrid: the v2 line wins wherever it is */
	cgroup_path("4:memory:/a/b\n1:name=systemd:/c\n0::/d/e\n", p, sizeof(p));
	CHECK_STR(p, "/d/e");
	/* v1 only: the first line */
	cgroup_path("4:memory:/a/b\n1:name=systemd:/c\n", p, sizeof(p));
	CHECK_STR(p, "/a/b");
	cgroup_path("", p, sizeof(p));
	CHECK_STR(p, "");
	cgroup_path("garbage without colons\n", p, sizeof(p));
	CHECK_STR(p, "");
	/* too long for the buffer: nothing rather than a cut path */
	cgroup_path("0::/0123456789\n", p, 8);
	CHECK_STR(p, "");
}

static void container_ids(void)
{
	char id[65];

	CHECK(cgroup_container_id("0::/system.slice/docker-" ID ".scope\n", id, sizeof(id)), "docker systemd");
	CHECK_STR(id, ID);
	CHECK(cgroup_container_id("0::/docker/" ID "\n", id, sizeof(id)), "docker cgroupfs");
	CHECK_STR(id, ID);
	CHECK(cgroup_container_id("0::/machine.slice/libpod-" ID ".scope/container\n", id, sizeof(id)), "podman");
	CHECK_STR(id, ID);
	CHECK(cgroup_container_id("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
				  "cri-containerd-" ID ".scope\n", id, sizeof(id)), "containerd");
	CHECK_STR(id, ID);
	CHECK(cgroup_container_id("0::/kubepods/besteffort/pod0f3e/" ID "\n", id, sizeof(id)), "kubepods");
	CHECK_STR(id, ID);
	/* upper case comes out lower case */
	CHECK(cgroup_container_id("0::/docker/4F6A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8\n",
				  id, sizeof(id)), "upper case");
	CHECK_STR(id, ID);
	/* not containers */
	CHECK(!cgroup_container_id("0::/system.slice/web.service\n", id, sizeof(id)), "a unit");
	CHECK_STR(id, "");
	CHECK(!cgroup_container_id("0::/docker/" ID "0\n", id, sizeof(id)), "65 digits");
	CHECK(!cgroup_container_id("0::/docker/x" ID "\n", id, sizeof(id)), "glued to a letter");
	CHECK(!cgroup_container_id("0::/docker/4f6a1b2c\n", id, sizeof(id)), "short");
	CHECK(!cgroup_container_id("", id, sizeof(id)), "empty");
	CHECK(!cgroup_container_id("0::/docker/" ID "\n", id, 64), "no room");
}

static void under(void)
{
	CHECK(cgroup_under("0::/a/b\n", "/a"), "parent");
	CHECK(cgroup_under("0::/a/b\n", "/a/b"), "itself");
	CHECK(cgroup_under("0::/a/b\n", "/a/b/"), "trailing slash");
	CHECK(!cgroup_under("0::/a/bc\n", "/a/b"), "a sibling sharing a prefix");
	CHECK(!cgroup_under("0::/a\n", "/a/b"), "a parent is not under its child");
	CHECK(cgroup_under("0::/a\n", "/"), "the root");
	CHECK(cgroup_under("0::/x/pod12/c\n", "/x/pod*"), "a glob on an ancestor");
	CHECK(!cgroup_under("0::/x/y/pod12\n", "/x/pod*"), "the glob's * stops at /");
}

static void units(void)
{
	CHECK(cgroup_in_unit("0::/system.slice/web.service\n", "web.service"), "the unit");
	CHECK(cgroup_in_unit("0::/system.slice/web.service\n", "system.slice"), "its slice");
	CHECK(!cgroup_in_unit("0::/system.slice/web.service/x.service\n", "x.service"), "below the unit");
}

static void owning_unit(void)
{
	char u[64];

	CHECK(cgroup_unit("/system.slice/web.service", u, sizeof(u)) && !strcmp(u, "web.service"), "a service");
	CHECK(cgroup_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope", u, sizeof(u)) &&
	      !strcmp(u, "user@1000.service"), "the first that is not a slice owns it");
	CHECK(cgroup_unit("/system.slice/docker-ab.scope/inner", u, sizeof(u)) && !strcmp(u, "docker-ab.scope"),
	      "a scope, below it ignored");
	CHECK(!cgroup_unit("/system.slice", u, sizeof(u)) && !*u, "only slices");
	CHECK(!cgroup_unit("/", u, sizeof(u)) && !*u, "the root");
	CHECK(!cgroup_unit("/system.slice/a-very-long-unit-name.service", u, 8) && !*u, "too long for out");
}

int main(void)
{
	RUN(paths);
	RUN(container_ids);
	RUN(under);
	RUN(units);
	RUN(owning_unit);
	printf("1..%d\n", unit_tests_run);
	return UNIT_EXIT();
}
