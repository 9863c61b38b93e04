# SPDX-License-Identifier: MIT
# For bats files that need the daemon: one pyprobed per file, workloads stopped after each test.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

setup_file() {
	start_daemon
}

teardown_file() {
	stop_daemon
}

teardown() {
	stop_workload
}
